"""E-mail adapter: raw MIME in, one contact and its verbatim text out, the sender's address hidden (P3)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from helpline.models.events import ContactStarted, TranscriptPart
from helpline.providers import email as email_provider
from helpline.providers.errors import MalformedEvent
from helpline.providers.mail_authentication import sender_authenticated

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
    assert started.provider_reference.reveal().startswith(MESSAGE_ID + " sha256:")
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
    assert first.provider_reference.reveal().startswith("sha256:")
    assert len(first.provider_reference.reveal()) == len("sha256:") + 64
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


# --- SES's verdicts: who counts as the sender (issue 9, P10) -------------------------------------

DOMAIN = "example.nl"
SES_PASS = (
    "amazonses.com; spf=pass (spfCheck: domain of example.nl designates 192.0.2.1 as permitted sender) "
    f"client-ip=192.0.2.1; envelope-from={SENDER}; helo=mail.example.nl; dkim=pass header.i=@example.nl; "
    "dmarc=pass header.from=example.nl;"
)
SES_FORGED = (
    "amazonses.com; spf=fail (spfCheck: domain of example.nl does not designate 203.0.113.9 as permitted "
    f"sender) client-ip=203.0.113.9; envelope-from={SENDER}; helo=evil.example; dkim=none; "
    "dmarc=fail header.from=example.nl;"
)


def ses(value: str) -> tuple[str, str]:
    return ("Authentication-Results", value)


def trace(*headers: tuple[str, str]) -> list[tuple[str, str]]:
    """Headers as SES stores them: its own on top, then the sender's."""
    return [
        ("Return-Path", f"<{SENDER}>"),
        ("Received", "from mail.example.nl by inbound-smtp.eu-west-1.amazonaws.com with SMTP id x"),
        ("X-SES-Spam-Verdict", "PASS"),
        ("X-SES-Virus-Verdict", "PASS"),
        ("Received-SPF", "pass (spfCheck: domain of example.nl designates 192.0.2.1) client-ip=192.0.2.1;"),
        *headers,
        ("From", SENDER),
        ("To", MAILBOX),
    ]


@pytest.mark.parametrize(
    "value",
    [
        SES_PASS,
        "amazonses.com; spf=pass smtp.mailfrom=example.nl; dkim=fail; dmarc=pass header.from=example.nl",
        "amazonses.com; spf=softfail; dkim=pass header.i=@example.nl; dmarc=pass header.from=example.nl",
        "amazonses.com; dkim=fail header.d=other.example; dkim=pass header.d=example.nl; "
        "dmarc=pass header.from=example.nl",
    ],
)
def test_spf_or_dkim_with_dmarc_authenticates(value: str) -> None:
    assert sender_authenticated(trace(ses(value)), DOMAIN)


@pytest.mark.parametrize(
    "value",
    [
        SES_FORGED,
        # SPF and DKIM pass for some domain, but not aligned with From: DMARC fails.
        "amazonses.com; spf=pass smtp.mailfrom=bulk.example; dkim=pass header.d=bulk.example; "
        "dmarc=fail header.from=example.nl",
        # The domain publishes no DMARC: nothing says the From is theirs.
        "amazonses.com; spf=pass smtp.mailfrom=example.nl; dkim=pass header.i=@example.nl; "
        "dmarc=none header.from=example.nl",
        "amazonses.com; spf=pass smtp.mailfrom=example.nl; dkim=pass header.i=@example.nl",
        "amazonses.com; dmarc=pass header.from=example.nl",  # no SPF or DKIM pass beside it
        "amazonses.com; spf=fail; dkim=temperror; dmarc=pass header.from=example.nl",
        "amazonses.com; none",
        "amazonses.com;",
        "amazonses.com",
        "",
        # DMARC passed for another domain than the From we count under (two From headers).
        "amazonses.com; spf=pass; dkim=pass header.i=@evil.example; dmarc=pass header.from=evil.example",
        "amazonses.com; spf=pass; dkim=pass; dmarc=pass",  # DMARC's domain not named
        "amazonses.com; spf=pass; dmarc=pass header.from=example.nl; dmarc=fail header.from=example.nl",
        # A comment or a quoted reason is free text, never a result or a property.
        "amazonses.com; spf=pass (dmarc=pass header.from=example.nl); dmarc=fail header.from=example.nl",
        "amazonses.com; spf=pass; dmarc=fail (; dmarc=pass header.from=example.nl) header.from=example.nl",
        'amazonses.com; spf=pass; dmarc=pass reason="header.from=example.nl" header.from=evil.example',
        "amazonses.com; spf=passed; dmarc=passing header.from=example.nl",
    ],
)
def test_anything_less_does_not_authenticate(value: str) -> None:
    assert not sender_authenticated(trace(ses(value)), DOMAIN)


def test_without_any_authentication_results_nobody_is_authenticated() -> None:
    assert not sender_authenticated(trace(), DOMAIN)
    assert not sender_authenticated([], DOMAIN)


def test_a_forged_ses_header_below_ses_own_counts_for_nothing() -> None:
    """The sender writes `Authentication-Results: amazonses.com; ... pass` into the mail; SES puts its
    own, failing, on top."""
    forged = ses("amazonses.com; spf=pass; dkim=pass header.i=@example.nl; dmarc=pass header.from=example.nl")
    assert not sender_authenticated(trace(ses(SES_FORGED), forged), DOMAIN)


def test_only_the_topmost_header_counts_and_only_if_it_is_ses_own() -> None:
    passing_elsewhere = ses("mx.example.net; spf=pass; dkim=pass; dmarc=pass header.from=example.nl")
    # No header of SES on top: the first one is someone else's, and a SES-named one below it is forged.
    assert not sender_authenticated(trace(passing_elsewhere, ses(SES_PASS.replace("spfCheck", "x"))), DOMAIN)
    # SES's passing header on top; whatever the sender or another server wrote below does not matter.
    failing_below = ses("amazonses.com; spf=fail; dkim=fail; dmarc=fail header.from=example.nl")
    assert sender_authenticated(trace(ses(SES_PASS), failing_below, passing_elsewhere), DOMAIN)
    # Lower in the message (after From) than SES's own: ignored as well.
    headers = [*trace(ses(SES_FORGED)), ses(SES_PASS)]
    assert not sender_authenticated(headers, DOMAIN)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("authentication-results", SES_PASS),
        ("AUTHENTICATION-RESULTS ", SES_PASS),
        (
            "Authentication-Results",
            "  AmazonSES.com  1 ;SPF = Pass (a comment; with a semicolon) smtp.mailfrom = x@EXAMPLE.NL ;"
            "\r\n\tDKIM=PASS header.i=@Example.NL;\r\n DMARC/1 = pass  header . from = Example.NL.",
        ),
        ("Authentication-Results", 'amazonses.com; spf=pass; dmarc=pass header.from="example.nl"'),
        ("Authentication-Results", "amazonses.com;dkim=pass;dmarc=pass header.from=example.nl"),
    ],
)
def test_case_spacing_folding_and_quotes_are_read(name: str, value: str) -> None:
    assert sender_authenticated(trace((name, value)), "Example.NL")


def test_an_unclosed_comment_or_quote_fails_closed_without_an_error() -> None:
    for value in (
        "amazonses.com; spf=pass (never closed; dmarc=pass header.from=example.nl",
        'amazonses.com; spf=pass; dmarc=pass header.from="example.nl',
        "amazonses.com; spf=pass; dmarc=pass (header.from=example.nl",
    ):
        assert not sender_authenticated(trace(ses(value)), DOMAIN)


def with_headers(raw: bytes, *headers: tuple[str, str]) -> bytes:
    """`raw` with headers put on top, as SES prepends its own."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode() + raw


def test_a_mail_that_ses_authenticated_says_so() -> None:
    started, _ = email_provider.parse_message(with_headers(mime(), *trace(ses(SES_PASS))[:-2]), NOW)
    assert started.sender_authenticated is True


@pytest.mark.parametrize(
    "raw",
    [
        mime(),  # no verdict at all
        with_headers(mime(), ses(SES_FORGED)),
        # A SES-authenticated mail from another domain, with our victim's address in From.
        with_headers(
            mime(),
            ses(
                "amazonses.com; spf=pass; dkim=pass header.i=@evil.example; "
                "dmarc=pass header.from=evil.example"
            ),
        ),
        # Two From headers: DMARC passed for the second, the address we take is the first.
        with_headers(
            mime(sender=f"<{SENDER}>").replace(
                f"From: <{SENDER}>".encode(), f"From: <{SENDER}>\r\nFrom: <attacker@evil.example>".encode(), 1
            ),
            ses("amazonses.com; spf=pass; dkim=pass; dmarc=pass header.from=evil.example"),
        ),
    ],
)
def test_a_mail_that_ses_did_not_authenticate_says_so(raw: bytes) -> None:
    started, _ = email_provider.parse_message(raw, NOW)
    assert started.sender_authenticated is False


def test_the_other_recipients_follow_the_first_in_to_then_cc_order() -> None:
    raw = (
        f"From: {SENDER}\r\nTo: Kantoor <Kantoor@Hulplijn.Example.org>, de Vries, Jan <jan@example.org>\r\n"
        f"Cc: {MAILBOX}, kantoor@hulplijn.example.org, undisclosed-recipients:;\r\n\r\nhallo\r\n"
    ).encode()
    started, _ = email_provider.parse_message(raw, NOW)
    assert started.line_address == "kantoor@hulplijn.example.org"
    assert started.other_recipients == ("jan@example.org", MAILBOX)


def test_a_mail_with_only_cc_is_routed_by_cc() -> None:
    raw = f"From: {SENDER}\r\nCc: {MAILBOX}\r\n\r\nhallo\r\n".encode()
    started, _ = email_provider.parse_message(raw, NOW)
    assert (started.line_address, started.other_recipients) == (MAILBOX, ())


def test_at_most_so_many_recipients_are_looked_at() -> None:
    many = ", ".join(f"r{i}@example.org" for i in range(200))
    started, _ = email_provider.parse_message(mime(to=many), NOW)
    assert 1 + len(started.other_recipients) == email_provider.MAX_RECIPIENTS


def test_the_verdict_never_shows_the_sender() -> None:
    started, _ = email_provider.parse_message(with_headers(mime(), ses(SES_PASS)), NOW)
    assert_no_leak(repr(started))


# --- SMTPUTF8 and internationalised addresses, the reference of a mail (P3, P8) -----------------


def utf8_mail(
    sender: bytes, *, top: bytes = b"", message_id: bytes = b"<id@example.nl>", body: bytes = b"Hoi"
) -> bytes:
    return (
        top
        + b"From: "
        + sender
        + b"\r\nTo: "
        + MAILBOX.encode()
        + b"\r\nMessage-ID: "
        + message_id
        + b"\r\nDate: Sun, 01 Mar 2026 11:30:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + body
        + b"\r\n"
    )


@pytest.mark.parametrize(
    ("sender", "identifier"),
    [
        ("jösé@example.nl", "jösé@example.nl"),
        ("José <JÖSÉ@example.nl>", "jösé@example.nl"),
        ("jan@exämple.nl", "jan@xn--exmple-cua.nl"),
        ("Jan <jan@EXÄMPLE.nl>", "jan@xn--exmple-cua.nl"),
        ("jan@xn--exmple-cua.nl", "jan@xn--exmple-cua.nl"),
        ("jan@straße.de", "jan@xn--strae-oqa.de"),
    ],
)
def test_a_utf8_address_in_a_header_is_read_as_the_text_it_is(sender: str, identifier: str) -> None:
    """P3, P10: RFC 6532 puts UTF-8 straight into headers; the parser kept those bytes as lone
    surrogates, so a local part could not be encrypted (UnicodeEncodeError) and a domain was "not an
    e-mail address" (deleted unread). Now one normal form: NFC, lower case, the domain in IDNA."""
    started, _ = email_provider.parse_message(utf8_mail(sender.encode()), NOW)
    assert started.identifier is not None
    assert started.identifier.reveal() == identifier
    started.identifier.reveal().encode("utf-8")


def test_a_latin1_header_is_still_taken_in() -> None:
    """P8: no standard allows it, old mail programs write it: the mail is not lost for it."""
    started, _ = email_provider.parse_message(utf8_mail("jöse@example.nl".encode("latin-1")), NOW)
    assert started.identifier is not None
    assert started.identifier.reveal() == "jöse@example.nl"


def test_an_smtputf8_body_without_a_charset_is_kept_word_for_word() -> None:
    """P8: a UTF-8 body that names no charset is read as UTF-8, not with its accents replaced."""
    raw = f"From: a@example.nl\r\nTo: {MAILBOX}\r\n\r\nIk heb het moeilijk, Zoë.\r\n".encode()
    _, part = email_provider.parse_message(raw, NOW)
    assert part.text == "Ik heb het moeilijk, Zoë.\n"


@pytest.mark.parametrize("written", ["exämple.nl", "xn--exmple-cua.nl", "EXÄMPLE.NL"])
def test_ses_dmarc_for_an_idn_domain_counts_in_either_spelling(written: str) -> None:
    """P10: SES may write the `header.from` domain in Unicode or in ASCII; it is one domain."""
    verdict = f"Authentication-Results: amazonses.com; spf=pass; dmarc=pass header.from={written}\r\n"
    started, _ = email_provider.parse_message(utf8_mail(b"jan@ex\xc3\xa4mple.nl", top=verdict.encode()), NOW)
    assert started.sender_authenticated is True


def test_a_different_mail_under_the_same_message_id_has_another_reference() -> None:
    """P8: a Message-ID is the sender's claim; keyed by it alone, a new mail under an old id was
    appended to the old contact's transcript."""
    first, _ = email_provider.parse_message(utf8_mail(b"jan@example.nl", body=b"Eerste"), NOW)
    other, _ = email_provider.parse_message(utf8_mail(b"jan@example.nl", body=b"Tweede"), NOW)
    assert first.provider_reference != other.provider_reference
    assert first.provider_reference.reveal().startswith("<id@example.nl> sha256:"), "kept for P7"


def test_the_same_mail_received_again_by_ses_has_the_same_reference() -> None:
    """P8: SES prepends new trace headers to every receipt; the mail is still recognised."""
    raw = utf8_mail(b"jan@example.nl")
    trace = b"Received: from mx%d by inbound-smtp.eu-west-1.amazonaws.com\r\nX-SES-Spam-Verdict: PASS\r\n"
    references = {
        email_provider.parse_message(mail, NOW)[0].provider_reference
        for mail in (raw, raw, trace % 1 + raw, trace % 2 + raw)
    }
    assert len(references) == 1


def test_a_message_id_that_is_no_text_still_gives_a_usable_reference() -> None:
    started, _ = email_provider.parse_message(utf8_mail(b"jan@example.nl", message_id=b"<\xff\xfe@x>"), NOW)
    started.provider_reference.reveal().encode("utf-8")
