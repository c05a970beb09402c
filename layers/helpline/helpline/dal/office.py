"""Office-line contacts (P11) in OfficeContactsTable (key `id`, TTL `expires_at`).

A table of their own, apart from helpline data: the caller's number may be here in clear, so nothing
that reads helpline registrations, statistics or disclosures ever reads this table.
"""

from __future__ import annotations

from helpline.dal.dynamodb import DynamoTable
from helpline.models.office import OfficeContact
from helpline.settings import get_settings


class DynamoOfficeContactStore(DynamoTable):
    """`OfficeContactStore` on OfficeContactsTable."""

    def put(self, contact: OfficeContact) -> bool:
        """Store the contact unless one with `contact.id` is there; True if stored now.

        Conditional, so that a mail whose storing is retried under the id its reference was first
        claimed with (`logic.ingest`) is kept once, with the receipt and TTL of the first attempt.
        """
        return self._put_if_absent(contact.model_dump(mode="json", exclude_none=True), "id")


def office_contact_store() -> DynamoOfficeContactStore:
    """The table named by OFFICE_CONTACTS_TABLE (on the process's shared DynamoDB client)."""
    return DynamoOfficeContactStore(get_settings().office_contacts_table)
