"""Apply work that waited in the registration buffer queue.

"Fail open for people, fail closed for data" (DESIGN.md): when storage fails during a contact, the
registration (P8), or the end of a contact, waits in a queue and is applied later. SQS delivers at
least once, so the same message can arrive twice: a registration is stored only if its id is new
(a redelivery is a success), and setting an end twice sets the same values.
"""

from __future__ import annotations

from helpline.logic.ports import ContactsRepository, ContactStore
from helpline.models.buffer import BufferedEnd, BufferedRegistration, BufferedWork
from helpline.models.contacts import ContactRecord


class RecordNotYetStoredError(LookupError):
    """An end arrived before its registration was stored: retried later, like the registration."""


def store_buffered_registration(repo: ContactsRepository, record: ContactRecord) -> bool:
    """Store `record` once; True if stored now, False if an earlier delivery already stored it.

    Both outcomes are success for the caller: the registration is in the table exactly once.
    """
    return repo.put_if_absent(record)


def apply_buffered_work(repo: ContactStore, work: BufferedWork) -> bool:
    """Apply one buffered message; raises RecordNotYetStoredError to have SQS deliver it again."""
    if isinstance(work, BufferedRegistration):
        return store_buffered_registration(repo, work.record)
    assert isinstance(work, BufferedEnd)
    if not repo.mark_ended(work.contact_id, work.ended_at, work.duration_s):
        raise RecordNotYetStoredError("the contact's registration is not stored yet")
    return True
