"""Contact ingestion: register a contact anonymously, count it against the daily limit, never lose it.

The order of the steps is the policy:

1. Find the entry line. An office line (P11) is stored apart, in clear, and never counted. A mail
   to several addresses goes to the first helpline address among them (`find_line`).
2. Claim the provider reference (its keyed hash): a provider retry gets the first answer and is not
   counted twice.
3. Pseudonymise the identifier (KMS MAC) and count it in the rolling 24 hours (P10). An e-mail is
   counted only when SES authenticated its sender (`_count`).
4. Encrypt the identifier, bound to the record (P2, P3); only the disclosure path can decrypt it (P7).
5. Store the anonymised record (P8); if storage fails, put it on the durable buffer queue.

Fail open for people, closed for data (DESIGN): when KMS or DynamoDB fail, the person is still
connected (`allowed`, the record says `unchecked`); an identifier that cannot be encrypted is not
stored at all, never stored in clear.

Time (P7, P8): `now`, which the handler takes from `helpline.clock.now()`, is our receipt time, and
every retention is counted from it (`logic.retention`). A provider's time is kept as `started_at` or
`sent_at` only when plausible, else replaced by the receipt time; it is judged before anything is
claimed, so no timestamp (year 1, 1970, 2150, 9999) can fail a registration halfway and leave a
reference or a limit slot claimed without its record.

All or nothing (P8, P10): a claimed provider reference and a used limit slot always have their
record, stored or waiting in the buffer queue. When the record can be neither (storage and queue both
down), or anything fails between the claim and the storing, both are given back (`_release`): a
retry then registers the contact afresh instead of being answered "duplicate" for a contact that
exists nowhere, and a contact that exists nowhere does not count against the person's limit. The
person is still connected; `Admission.kept` tells a handler whose provider retries (e-mail, chat) to
ask for that retry.

What follows a registered contact (its end, its transcript parts) is `logic.conversation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from helpline.logic import retention
from helpline.logic.ports import (
    ContactStore,
    DependencyError,
    IdentifierVault,
    LimitCounter,
    LineDirectory,
    OfficeContactStore,
    ReferenceEntry,
    ReferenceIndex,
    RegistrationBuffer,
)
from helpline.models.buffer import BufferedRegistration
from helpline.models.contacts import ContactRecord, LimitOutcome
from helpline.models.events import ContactStarted
from helpline.models.lines import Line
from helpline.models.office import OfficeContact, clip_body
from helpline.regions import region_of

logger = Logger(child=True)
LineKind = Literal["helpline", "office", "unknown"]
REFERENCE_TTL = timedelta(days=2)
"""How long a provider reference's keyed hash is kept: long enough for late callbacks and retries."""


class UnknownLineError(LookupError):
    """The contacted line is not registered (chat answers 404; a call is still routed)."""


class UnknownContactError(LookupError):
    """A later event (message, end) for a contact that was never started."""


class RegistrationNotKeptError(DependencyError):
    """The contact's record could be neither stored nor buffered (its claims were given back): the
    provider should deliver the event again. The message names no value."""


@dataclass(frozen=True)
class IngestPolicy:
    """Limits and retentions (days, counted from our receipt), from the function's settings."""

    default_daily_limit: int = 3
    identifier_retention_days: int = 365
    office_retention_days: int = 30
    transcript_retention_days: int = 180
    register_retention_days: int = 730


@dataclass(frozen=True)
class IngestPorts:
    lines: LineDirectory
    vault: IdentifierVault
    limits: LimitCounter
    references: ReferenceIndex
    contacts: ContactStore
    buffer: RegistrationBuffer
    office: OfficeContactStore


@dataclass(frozen=True)
class Admission:
    """The answer for the provider: connect or not, and how to route."""

    contact_id: str
    line: Line | None
    line_kind: LineKind
    allowed: bool
    contacts_last_24h: int | None
    duplicate: bool = False
    limit_outcome: LimitOutcome | None = None
    """What the daily limit said of a contact registered now (P10); None for a repeat or an office line."""
    kept: bool = True
    """Whether the record is stored or waits in the buffer queue. False only when neither worked: the
    reference and the limit slot were given back, the person is let through (fail open), and a
    provider that retries should be asked to (`RegistrationNotKeptError`)."""
    buffered: bool = False
    """Whether the record waits in the buffer queue because storing it failed (counted, `metrics`)."""


def find_line(ports: IngestPorts, event: ContactStarted) -> tuple[Line | None, bool]:
    """The contacted line, and whether the lookup worked (a failed lookup is not an unknown line).

    A mail may go to several of our addresses (`line_address`, then `other_recipients`: `To`, then
    `Cc`). The first helpline address among them wins; an office address only when there is no
    helpline address at all. A help conversation must never end up in the office's table, in clear
    (P3, P11), because someone put the office in `Cc`; the office then gets no copy of that mail,
    which is the lesser harm.
    """
    office: Line | None = None
    addresses = [address for address in (event.line_address, *event.other_recipients) if address]
    try:
        for address in addresses:
            line = ports.lines.find(event.channel, address)
            if line is not None and line.kind != "office":
                return line, True
            office = office or line
    except DependencyError:
        logger.warning("Line lookup failed; routing as a helpline", extra={"channel": event.channel})
        return None, False
    return office, True


def admit_contact(
    event: ContactStarted,
    ports: IngestPorts,
    policy: IngestPolicy,
    now: datetime,
    *,
    require_known_line: bool = False,
    office_text: str | None = None,
) -> Admission:
    """Register one new contact and decide whether the person is connected (P8, P10, P11).

    `office_text` is what the person wrote (a mail's body): kept with the contact, in clear, only if
    the line is an office line (P11); a helpline's text goes encrypted through
    `conversation.add_transcript_part`.

    `now` is our receipt time: the record's `started_at` is the provider's time if plausible, else
    `now`; its identifier is kept until receipt day + `identifier_retention_days` and the record itself
    until midnight of receipt day + `register_retention_days` (its TTL). The record is built and checked
    before the reference is claimed and the contact counted, so whatever the event says, a claimed
    reference or a used limit slot always has its record (stored, or waiting in the buffer).
    """
    started_at = retention.provider_time(event.started_at, now, event.channel)
    line, lookup_worked = find_line(ports, event)
    if line is None and lookup_worked and require_known_line:
        raise UnknownLineError("no line is registered for this address")
    if line is not None and line.kind == "office":
        return _admit_office_contact(event, started_at, line, ports, policy, now, office_text)

    draft = ContactRecord(
        channel=event.channel,
        line=line.line_id if line else "unknown",
        started_at=started_at,
        region=region_of(event.identifier),
        limit_outcome="unchecked",
        expires_at=retention.expiry_epoch(now, policy.register_retention_days),
    )
    contact_id = draft.id
    ref_key = _reference_key(ports, event)
    if ref_key is not None:
        entry = ReferenceEntry(contact_id=contact_id, line_kind="helpline", started_at=started_at)
        earlier = _claim(ports, ref_key, entry, now)
        if earlier is not None:
            return _repeat_answer(earlier, line)

    claims = _Claims(ref_key, contact_id)
    try:
        count = _count(event, line, ports, policy, now)
        claims.pseudonym = count.pseudonym
        if ref_key is not None:
            try:
                ports.references.settle(ref_key, count.allowed, count.last_24h)
            except DependencyError:
                logger.warning(
                    "Could not record the limit outcome for retries", extra={"contact_id": contact_id}
                )
        sealable = event.identifier is not None or event.reference_sealed_alone
        ciphertext = _seal(ports, contact_id, event, now) if sealable else None
        record = _complete(
            draft, count.outcome, ciphertext, retention.retain_until(now, policy.identifier_retention_days)
        )
        stored = _store(ports, record)
    except Exception:
        _release(ports, claims, now)
        raise
    if stored is None:
        _release(ports, claims, now)
        kind: LineKind = "helpline" if line else "unknown"
        return Admission(
            contact_id, line, kind, count.allowed, count.last_24h, limit_outcome=count.outcome, kept=False
        )
    logger.info(
        "Contact registered",
        extra={"contact_id": contact_id, "channel": event.channel, "limit_outcome": count.outcome},
    )
    return Admission(
        contact_id,
        line,
        "helpline" if line else "unknown",
        count.allowed,
        count.last_24h,
        limit_outcome=count.outcome,
        buffered=stored == "buffered",
    )


@dataclass
class _Claims:
    """What a registration has claimed so far and must give back if its record cannot be kept."""

    ref_key: str | None
    contact_id: str
    pseudonym: str | None = None
    """Set when a limit slot was taken under it."""


def _release(ports: IngestPorts, claims: _Claims, now: datetime) -> None:
    """Give back the reference and the limit slot of a contact whose record could not be kept.

    Each on its own, and never raising: this runs while something has already failed. What cannot be
    given back stays until its TTL (the reference two days, the slot 24 hours) and is logged as such.
    """
    if claims.pseudonym is not None:
        try:
            ports.limits.release(claims.pseudonym, now)
        except Exception:
            logger.critical(
                "Limit slot of an unkept contact not given back", extra={"contact_id": claims.contact_id}
            )
    if claims.ref_key is not None:
        try:
            ports.references.release(claims.ref_key, claims.contact_id)
        except Exception:
            logger.critical(
                "Reference of an unkept contact not given back", extra={"contact_id": claims.contact_id}
            )


def _reference_key(ports: IngestPorts, event: ContactStarted) -> str | None:
    try:
        return ports.vault.reference_key(event.provider_reference)
    except DependencyError:
        logger.warning("Provider reference could not be keyed; retries are not recognised")
        return None


def _claim(ports: IngestPorts, ref_key: str, entry: ReferenceEntry, now: datetime) -> ReferenceEntry | None:
    try:
        return ports.references.claim(ref_key, entry, now + REFERENCE_TTL)
    except DependencyError:
        logger.warning("Provider reference could not be stored", extra={"contact_id": entry.contact_id})
        return None


def _repeat_answer(earlier: ReferenceEntry, line: Line | None) -> Admission:
    """A provider retry, or a second event for a contact already started: the first answer stands."""
    allowed = True if earlier.allowed is None else earlier.allowed  # still being decided: fail open
    kind: LineKind = "office" if earlier.line_kind == "office" else ("helpline" if line else "unknown")
    return Admission(earlier.contact_id, line, kind, allowed, earlier.contacts_last_24h, duplicate=True)


@dataclass(frozen=True)
class _Count:
    allowed: bool
    last_24h: int | None
    outcome: LimitOutcome
    pseudonym: str | None = None
    """The pseudonym a limit slot was taken under; None when none was (not counted, or limited)."""


def _count(
    event: ContactStarted, line: Line | None, ports: IngestPorts, policy: IngestPolicy, now: datetime
) -> _Count:
    """P10: count the contact under its pseudonym; a withheld number cannot be counted.

    An e-mail counts only when SES authenticated its sender (SPF or DKIM with DMARC alignment,
    `providers.mail_authentication.sender_authenticated`). Anyone can write anyone's address in
    `From`: counting such mail would let three forged mails use up a real person's limit (issue 9).
    Unauthenticated mail is not counted at all, not even under a pseudonym of its own: whoever forges
    an address could use that count up just as well, and a sender whose domain publishes no DMARC
    (every one of whose mails is unauthenticated) would then be limited by strangers. So it is taken
    in and answered (fail open for people), its record says `unauthenticated`, and no limit slot is
    written for it.
    """
    if event.identifier is None:
        return _Count(True, None, "unchecked")
    if event.channel == "email" and event.sender_authenticated is not True:
        return _Count(True, None, "unauthenticated")
    limit = line.daily_limit if line and line.daily_limit else policy.default_daily_limit
    try:
        pseudonym = ports.vault.pseudonym(event.identifier)
        allowed, count = ports.limits.admit(pseudonym, limit, now)
    except DependencyError:
        logger.warning("Daily limit could not be checked; letting the person through")
        return _Count(True, None, "unchecked")
    if not allowed:
        return _Count(False, count, "limited")
    return _Count(True, count, "allowed", pseudonym)


def _complete(
    draft: ContactRecord, outcome: LimitOutcome, ciphertext: str | None, retain_until: date
) -> ContactRecord:
    """The draft with the limit outcome and the sealed identifier; without the ciphertext if the vault's
    output is not one the record accepts (closed for data), but always a record to store."""
    fields = draft.model_dump()
    fields["limit_outcome"] = outcome
    if ciphertext is not None:
        try:
            return ContactRecord.model_validate(
                {**fields, "identifier_ciphertext": ciphertext, "identifier_retain_until": retain_until}
            )
        except ValidationError:
            logger.error("Sealed identifier not storable; not kept", extra={"contact_id": draft.id})
    return ContactRecord.model_validate(fields)


def _seal(ports: IngestPorts, contact_id: str, event: ContactStarted, received_at: datetime) -> str | None:
    try:
        return ports.vault.seal(
            contact_id,
            event.channel,
            event.identifier,
            event.provider_reference,
            received_at,
            sender_authenticated=event.sender_authenticated,
        )
    except DependencyError:
        # Closed for data: an identifier we cannot encrypt is not kept (P2, P3).
        logger.error("Identifier could not be encrypted and is not stored", extra={"contact_id": contact_id})
        return None


def _store(ports: IngestPorts, record: ContactRecord) -> Literal["stored", "buffered"] | None:
    """Store the record, else put it on the buffer queue; None when neither worked (P8)."""
    try:
        ports.contacts.put_if_absent(record)
        return "stored"
    except DependencyError:
        logger.warning("Registration not stored; buffering it", extra={"contact_id": record.id})
    try:
        ports.buffer.defer(BufferedRegistration(record=record))
    except DependencyError:
        logger.critical("Registration could not be stored nor buffered", extra={"contact_id": record.id})
        return None
    return "buffered"


def _admit_office_contact(
    event: ContactStarted,
    started_at: datetime,
    line: Line,
    ports: IngestPorts,
    policy: IngestPolicy,
    now: datetime,
    text: str | None = None,
) -> Admission:
    """P11: an office contact is kept apart, in clear, for its purpose only, and never counted.

    Its retention too runs from our receipt (`now`), never from the provider's time. A mail's `text`
    is kept with it (cut to what an item holds): the person wrote to the office for a purpose, and the
    office needs what they wrote. A call loses nothing if its record cannot be stored, but a mail
    would lose its text, because the raw mail is deleted after intake: so with a `text` a failed put
    raises (the notification is retried). Either way the reference is given back first, so that the
    retry registers the contact afresh; should that fail too, the retry finds the reference claimed
    and stores the contact under the id claimed first (conditional, so once).
    """
    contact = OfficeContact(
        channel=event.channel,
        line=line.line_id,
        caller=event.identifier.reveal() if event.identifier else None,
        body=clip_body(text) if text is not None else None,
        started_at=started_at,
        expires_at=int((now + timedelta(days=policy.office_retention_days)).timestamp()),
    )
    ref_key = _reference_key(ports, event)
    if ref_key is not None:
        entry = ReferenceEntry(contact_id=contact.id, line_kind="office", started_at=started_at, allowed=True)
        earlier = _claim(ports, ref_key, entry, now)
        if earlier is not None:
            if text is not None and earlier.line_kind == "office":
                _keep_office_contact(ports, contact.model_copy(update={"id": earlier.contact_id}), True)
            return _repeat_answer(earlier, line)
    claims = _Claims(ref_key, contact.id)
    try:
        kept = _keep_office_contact(ports, contact, text is not None)
    except Exception:
        _release(ports, claims, now)
        raise
    if not kept:
        _release(ports, claims, now)
    return Admission(contact.id, line, "office", True, None, kept=kept)


def _keep_office_contact(ports: IngestPorts, contact: OfficeContact, must_keep: bool) -> bool:
    """Store the office contact; False when that failed. With `must_keep` (a mail, whose text would be
    lost) the failure raises instead, so the notification is retried."""
    try:
        ports.office.put(contact)
    except DependencyError:
        logger.error("Office contact not stored", extra={"office_contact_id": contact.id})
        if must_keep:
            raise
        return False
    return True
