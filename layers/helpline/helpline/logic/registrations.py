"""Store contact registrations that waited in the buffer queue.

"Fail open for people, fail closed for data" (DESIGN.md): when storage fails during a contact, the
registration (P8) waits in a queue and is stored later. SQS delivers at least once, so the same
message can arrive twice: the store is conditional on the id being new, and a redelivery is a
success.
"""

from __future__ import annotations

from helpline.logic.ports import ContactsRepository
from helpline.models.contacts import ContactRecord


def store_buffered_registration(repo: ContactsRepository, record: ContactRecord) -> bool:
    """Store `record` once; True if stored now, False if an earlier delivery already stored it.

    Both outcomes are success for the caller: the registration is in the table exactly once.
    """
    return repo.put_if_absent(record)
