"""E-mail adapter: raw MIME in, one contact and its verbatim text out, the sender's address hidden (P3)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from helpline.models.events import ContactStarted, TranscriptPart
from helpline.providers import email as email_provider
from helpline.providers.errors import MalformedEvent

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SENDER = "jan.de.vries@example.nl"
MAILBOX = "hulp@hulplijn.example.org"
MESSAGE_ID = "<CAF7x9q2=abc@mail.example.nl>"


def mime(
    *,
    sender: str | None = f"Jan de Vries <{SENDER}>",
    to: str | None = f"Hulplijn <{MAILBOX}>",
    message_id: str | None = MESSAGE_ID,
    date: str | None = "Sun, 01 Mar 2026 11:30:00 +0100",
    plain: str | None = "Hallo,\n\nik wil graag iets vertellen.\n",
    html: str | None = None,
) -> bytes:
    message = EmailMessage()
    if sender is not None:
        message["From"] = sender
    if to is not None:
        message["To"] = to
    if message_id is not None:
        message["Message-ID"] = message_id
    if date is not None:
        message["Date"] = date
    message["Subject"] = "Even praten"
    if plain is not None:
        message.set_content(plain)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message.as_bytes(policy=SMTP)


def test_a_mail_becomes_a_contact_and_its_text() -> None:
    started, part = email_provider.parse_message(mime(), NOW)
    assert isinstance(started, ContactStarted)
    assert isinstance(part, TranscriptPart)
    assert started.channel == "email"
    assert started.line_address == MAILBOX
    assert started.identifier is not None
    assert started.identifier.kind == "email"
    assert started.identifier.reveal() == SENDER
    assert started.provider_reference.reveal() == MESSAGE_ID
    assert started.started_at == datetime(2026, 3, 1, 10, 30, tzinfo=UTC)
    assert part.channel == "email"
    assert part.provider_reference == started.provider_reference
    assert part.sender == "contact"
    assert part.sent_at == started.started_at
    assert part.text == "Hallo,\n\nik wil graag iets vertellen.\n"
    assert part.part_id == "body"


def test_addresses_are_normalised() -> None:
    started, _ = email_provider.parse_message(
        mime(sender="Jan.De.Vries@EXAMPLE.NL", to="HULP@Hulplijn.Example.org, ander@example.org"), NOW
    )
    assert started.identifier is not None
    assert started.identifier.reveal() == SENDER
    assert started.line_address == MAILBOX  # the first To, lower-cased like the line registry


@pytest.mark.parametrize(
    "from_header",
    [
        f"=?utf-8?q?de_Vries=2C_Jan?= <{SENDER}>",  # an encoded comma
        f'"de Vries, Jan" <{SENDER}>',
        f"de Vries, Jan <{SENDER}>",  # unquoted: two "addresses", only the second has an @
        f"{SENDER} (Jan)",
    ],
)
def test_the_display_name_does_not_confuse_the_address(from_header: str) -> None:
    raw = f"From: {from_header}\r\nTo: {MAILBOX}\r\n\r\nhallo\r\n".encode()
    started, _ = email_provider.parse_message(raw, NOW)
    assert started.identifier is not None
    assert started.identifier.reveal() == SENDER


def test_the_plain_text_is_preferred_over_html() -> None:
    _, part = email_provider.parse_message(mime(plain="platte tekst\n", html="<p>html</p>\n"), NOW)
    assert part.text == "platte tekst\n"


def test_an_html_only_mail_is_stored_as_is() -> None:
    html = "<html><body><p>Ik ben <b>moe</b> &amp; verdrietig.</p></body></html>\n"
    _, part = email_provider.parse_message(mime(plain=None, html=html), NOW)
    assert part.text == html


def test_a_mail_without_text_has_an_empty_part() -> None:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = MAILBOX
    message.set_content(b"\x00\x01", maintype="application", subtype="octet-stream")
    _, part = email_provider.parse_message(message.as_bytes(), NOW)
    assert part.text == ""


def test_a_non_utf8_charset_is_decoded() -> None:
    raw = (
        f"From: {SENDER}\r\nTo: {MAILBOX}\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + "Één café\r\n".encode("latin-1")
    _, part = email_provider.parse_message(raw, NOW)
    assert part.text.startswith("Één café")


def test_an_unknown_charset_does_not_lose_the_mail() -> None:
    raw = (
        f"From: {SENDER}\r\nTo: {MAILBOX}\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nhallo\r\n"
    ).encode()
    _, part = email_provider.parse_message(raw, NOW)
    assert "hallo" in part.text


def test_a_long_body_is_cut_with_a_marker_within_the_limit() -> None:
    limit = email_provider.MAX_TRANSCRIPT_CHARS
    _, part = email_provider.parse_message(mime(plain="a" * (limit + 10) + "\n"), NOW)
    assert len(part.text) == limit
    assert part.text.endswith("\n[…afgekapt]")
    assert part.text.startswith("a" * 1000)


def test_a_body_at_the_limit_is_not_cut() -> None:
    text = "b" * email_provider.MAX_TRANSCRIPT_CHARS
    assert email_provider.truncate(text) == text
    assert email_provider.truncate(text + "c").endswith("[…afgekapt]")


def test_without_message_id_the_reference_is_a_stable_hash() -> None:
    raw = mime(message_id=None)
    first, _ = email_provider.parse_message(raw, NOW)
    again, _ = email_provider.parse_message(raw, NOW)
    assert first.provider_reference.reveal() == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert again.provider_reference == first.provider_reference
    other, _ = email_provider.parse_message(mime(message_id=None, plain="anders\n"), NOW)
    assert other.provider_reference != first.provider_reference


@pytest.mark.parametrize("date", [None, "gisteren", "Mon, 99 Foo 2026 99:99:99 +0100"])
def test_without_a_usable_date_now_is_used(date: str | None) -> None:
    started, part = email_provider.parse_message(mime(date=date), NOW)
    assert started.started_at == NOW
    assert part.sent_at == NOW


def test_a_date_without_zone_is_utc() -> None:
    started, _ = email_provider.parse_message(mime(date="Sun, 01 Mar 2026 11:30:00 -0000"), NOW)
    assert started.started_at == datetime(2026, 3, 1, 11, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (mime(sender=None), "missing From"),
        (mime(sender="undisclosed-recipients:;"), "missing From"),
        (mime(sender="jan"), "From is not an e-mail address"),
        (mime(to=None), "missing To"),
        (mime(to="hulp"), "To is not an e-mail address"),
        (b"", "missing From"),
        (b"\x00\xff garbage", "missing From"),
    ],
)
def test_a_malformed_mail(raw: bytes, problem: str) -> None:
    with pytest.raises(MalformedEvent) as raised:
        email_provider.parse_message(raw, NOW)
    assert str(raised.value) == problem


# --- identifier leaks (P3) ---------------------------------------------------------------------

LEAK_FORMS = (SENDER, "jan.de.vries", "Jan.De.Vries", "Jan de Vries", "example.nl", MESSAGE_ID, "CAF7x9q2")


def assert_no_leak(text: str) -> None:
    for form in LEAK_FORMS:
        assert form.lower() not in text.lower()


def test_the_events_never_show_the_sender_or_the_message_id() -> None:
    started, part = email_provider.parse_message(mime(plain="x"), NOW)
    for event in (started, part):
        for text in (repr(event), str(event), f"{event}"):
            assert_no_leak(text)


@pytest.mark.parametrize(
    "raw",
    [
        mime(sender="Jan de Vries <jan.de.vries@>"),
        mime(sender="jan.de.vries example.nl"),
        mime(to=SENDER.replace("@", " ")),
        mime(to=None),
    ],
)
def test_error_messages_never_show_the_sender(raw: bytes) -> None:
    with pytest.raises(MalformedEvent) as raised:
        email_provider.parse_message(raw, NOW)
    assert_no_leak(str(raised.value))
    assert_no_leak(repr(raised.value))


@pytest.mark.parametrize(
    ("date", "claimed"),
    [
        ("Thu, 01 Jan 1970 00:00:00 +0000", datetime(1970, 1, 1, tzinfo=UTC)),
        ("Wed, 01 Jan 2150 00:00:00 +0000", datetime(2150, 1, 1, tzinfo=UTC)),
        ("Fri, 31 Dec 9999 23:59:59 +0000", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
        # West of Greenwich, 31 Dec 9999 is a moment UTC cannot hold: it overflowed, now it is clamped.
        ("Fri, 31 Dec 9999 23:59:59 -1400", datetime.max.replace(tzinfo=UTC)),
    ],
)
def test_an_absurd_date_is_read_as_a_claim_without_an_exception(date: str, claimed: datetime) -> None:
    """The `Date:` header is the sender's claim; retention never counts from it (P7, P8), and no
    value of it may make the intake fail (the notification would be retried for ever)."""
    started, part = email_provider.parse_message(mime(date=date), NOW)
    assert started.started_at == claimed
    assert part.sent_at == claimed


def test_a_date_in_year_one_does_not_break_the_intake() -> None:
    """RFC 5322 years below 100 are read as two-digit years by the parser; whatever it makes of them,
    it is an aware UTC time and no exception."""
    started, _ = email_provider.parse_message(mime(date="Mon, 01 Jan 0001 00:00:00 +1400"), NOW)
    assert started.started_at.tzinfo == UTC
