"""Office-line contacts (P11) in OfficeContactsTable (key `id`, TTL `expires_at`).

A table of their own, apart from helpline data: the caller's number may be here in clear, so nothing
that reads helpline registrations, statistics or disclosures ever reads this table.
"""

from __future__ import annotations

from helpline.dal.dynamodb import DynamoTable, dynamodb_errors, to_item
from helpline.models.office import OfficeContact
from helpline.settings import get_settings


class DynamoOfficeContactStore(DynamoTable):
    """`OfficeContactStore` on OfficeContactsTable."""

    def put(self, contact: OfficeContact) -> None:
        """Create or replace the contact with `contact.id` (a retry stores the same item again)."""
        with dynamodb_errors("PutItem"):
            self._dynamodb.put_item(
                TableName=self._table_name, Item=to_item(contact.model_dump(mode="json", exclude_none=True))
            )


def office_contact_store() -> DynamoOfficeContactStore:
    """The table named by OFFICE_CONTACTS_TABLE (on the process's shared DynamoDB client)."""
    return DynamoOfficeContactStore(get_settings().office_contacts_table)
