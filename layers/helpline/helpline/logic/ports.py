"""What the domain needs from storage; DynamoDB (`helpline.dal`) and memory fakes implement it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from helpline.identifiers import Identifier
from helpline.models.buffer import BufferedWork
from helpline.models.common import Channel
from helpline.models.contacts import ContactRecord
from helpline.models.lines import Line
from helpline.models.office import OfficeContact


class LinesRepository(Protocol):
    """The line registry."""

    def list_lines(self) -> list[Line]:
        """Every registered line, in no particular order."""
        ...

    def put_line(self, line: Line) -> None:
        """Create or replace the line with `line.line_id`."""
        ...


class ContactsRepository(Protocol):
    """The anonymised contact registration (P8)."""

    def put_if_absent(self, record: ContactRecord) -> bool:
        """Store `record` unless its id is present; True if it was stored now."""
        ...


# ---------------------------------------------------------------- ingestion (P2, P3, P8, P10, P11)


class DependencyError(RuntimeError):
    """A service we depend on (KMS, DynamoDB, SQS) failed or throttled after its retries.

    Adapters raise it instead of SDK errors, so the domain can fail open for people (a caller is
    always connected) and closed for data. Its message names the operation, never a value.
    """


class LineDirectory(Protocol):
    def find(self, channel: Channel, address: str) -> Line | None:
        """The line with this channel and (normalised) address, or None when none is registered."""
        ...


class IdentifierVault(Protocol):
    """The only place identifiers are turned into something storable (P2, P3, P10)."""

    def pseudonym(self, identifier: Identifier) -> str:
        """A keyed MAC of the identifier under the KMS HMAC key: counts a person without knowing who."""
        ...

    def reference_key(self, reference: Identifier) -> str:
        """A keyed hash of a provider reference, for matching later events and provider retries."""
        ...

    def seal(
        self,
        contact_id: str,
        channel: Channel,
        identifier: Identifier | None,
        reference: Identifier,
        received_at: datetime,
        *,
        sender_authenticated: bool | None = None,
    ) -> str:
        """Base64 ciphertext of the identifier and the provider reference, bound to `contact_id`.

        Encrypted under the key of `helpline.periods.period_of(received_at)`: our receipt time, never a
        provider's, so the key that is destroyed when the period's retention has run out (P7) is the
        key of every identifier received in it.

        `sender_authenticated` (e-mail: whether SES authenticated the `From` address) is sealed with
        the address, when given: a disclosure must say whether the address was proven or may have
        been forged (issue 9), and inside the ciphertext nobody can change it without breaking it.
        """
        ...


class TranscriptSealer(Protocol):
    def seal(self, contact_id: str, channel: Channel, sender: str, text: str, received_at: datetime) -> str:
        """Base64 ciphertext of one transcript part, bound to `contact_id`, under the transcript key of
        `received_at`'s period (as `IdentifierVault.seal`)."""
        ...


class LimitCounter(Protocol):
    def admit(self, pseudonym: str, limit: int, now: datetime) -> tuple[bool, int]:
        """Count one contact in the rolling 24 hours unless `limit` are already there (race-free).

        Returns (allowed, contacts in the last 24 hours including this one if allowed).
        """
        ...

    def release(self, pseudonym: str, now: datetime) -> None:
        """Give back the slot that `admit(pseudonym, _, now)` took, when its contact could not be kept
        (P10: a contact that exists nowhere must not count). Nothing when there is none."""
        ...


@dataclass(frozen=True)
class ReferenceEntry:
    """What is kept under a provider reference's keyed hash: never the reference itself."""

    contact_id: str
    line_kind: str
    started_at: datetime | None = None
    allowed: bool | None = None
    contacts_last_24h: int | None = None
    sequence: int = -1


class ReferenceIndex(Protocol):
    def claim(self, ref_key: str, entry: ReferenceEntry, expires_at: datetime) -> ReferenceEntry | None:
        """Store `entry` unless the key exists; None when stored now, else the entry already there."""
        ...

    def find(self, ref_key: str) -> ReferenceEntry | None: ...

    def settle(self, ref_key: str, allowed: bool, contacts_last_24h: int | None) -> None:
        """Record the limit outcome, so a provider retry gets the same answer."""
        ...

    def advance(self, ref_key: str, sequence: int) -> bool:
        """Move the last applied provider sequence forward; False if `sequence` is not newer."""
        ...

    def release(self, ref_key: str, contact_id: str) -> None:
        """Remove the entry if it still names `contact_id`: its contact could not be kept, and a retry
        must register it afresh instead of being answered as a duplicate. Nothing when it is gone."""
        ...

    def part_sequence(self, ref_key: str, part_key: str, base: int, expires_at: datetime) -> int | None:
        """The `seq` of one transcript part of this reference's contact (race-free): the one remembered
        under `part_key` (a part delivered again gets the `seq` it got the first time, whatever `base`
        is now), else `base` + the next value of a counter kept with the entry (1, 2, 3, … in the order
        parts arrive, with gaps where two deliveries of one part raced), remembered until `expires_at`.
        None if the entry is gone.
        """
        ...


class ContactStore(ContactsRepository, Protocol):
    def mark_ended(self, contact_id: str, ended_at: datetime, duration_s: int | None) -> bool:
        """Set end and duration; False if the record is not (yet) stored."""
        ...


class TranscriptStore(Protocol):
    def append(
        self, contact_id: str, seq: int, sender: str, ciphertext: str, sent_at: datetime, expires_at: int
    ) -> bool:
        """Store one part unless (contact_id, seq) exists; True if stored now.

        `expires_at` is the part's TTL (epoch seconds, a midnight UTC counted from our receipt, P8); a
        reader treats the part as gone from then on, even before the table's TTL deletes it.
        """
        ...


class OfficeContactStore(Protocol):
    def put(self, contact: OfficeContact) -> bool:
        """Store the contact unless one with its id is there; True if stored now (a retry stores once)."""
        ...


class RegistrationBuffer(Protocol):
    def defer(self, message: BufferedWork) -> None:
        """Put work that could not be stored on the durable queue, to be retried until stored."""
        ...
