"""Whether SES authenticated a mail's sender: only SES's own `Authentication-Results` is believed (P10).

The `From` of a mail is whatever its sender typed (issue 9: three forged mails `From: victim@...` used
up the victim's daily limit, P10). SES checks SPF, DKIM and DMARC on receipt (the receipt rule's
`ScanEnabled: true`) and writes its verdicts into the stored message as an `Authentication-Results`
header on top (RFC 8601). The S3 notification carries only the object's name, never the receipt's
verdicts, so that header is our only source, and it is read strictly (`sender_authenticated`): only
the topmost one, and only when SES wrote it. Every one below it was written by the sender or a server
before SES, and a sender can write `amazonses.com; dmarc=pass` as easily as anything else.

Kept apart from reading the mail (`providers.email`) because it is a judgement, not parsing: what
counts as authenticated decides whether a mail counts against a person's daily limit (`logic.ingest`).
Pure, and never logs or raises with a header value: those hold the sender's address (P3).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from helpline import identifiers
from helpline.identifiers import InvalidIdentifierError

SES_AUTHSERV_ID: Final = "amazonses.com"
"""The authserv-id SES writes first in its `Authentication-Results` header."""
AUTHENTICATION_RESULTS: Final = "authentication-results"

_RESULT: Final = re.compile(r"\s*([a-z0-9_-]+)\s*(?:/\s*[0-9]+\s*)?=\s*([a-z0-9_-]+)(?=\s|$)", re.IGNORECASE)
"""The start of a resinfo (RFC 8601): `method[/version] = result`, any case, any spacing."""
_PROPERTY: Final = re.compile(
    r'"(?:[^"\\]|\\.)*"|([a-z0-9_-]+)\s*\.\s*([a-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s";]+)',
    re.IGNORECASE,
)
"""A `ptype.property = value` of a resinfo; a quoted string (a `reason="..."`) is consumed whole, so
that nothing inside it can pass for a property."""


def _without_comments(value: str) -> str:
    """`value` with its comments (nested parentheses, RFC 5322) each replaced by one space.

    Comments are free text (SES writes "(spfCheck: domain of ... designates ...)" in them): they may
    hold a ";" or a "dmarc=pass", and must count for nothing. Quoted strings are kept as they are.
    An unclosed comment runs to the end.
    """
    kept: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                kept.append(char)
        elif char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                kept.append(char)
        elif depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                kept.append(" ")
        elif quoted:
            kept.append(char)
            quoted = char != '"'
        elif char == "(":
            depth = 1
        else:
            kept.append(char)
            quoted = char == '"'
    return "".join(kept)


def _split_unquoted(value: str) -> list[str]:
    """`value` split at each ";" outside a quoted string."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _domain(value: str) -> str:
    """A domain as written in a header, lower case; an internationalised one in its ASCII form, as
    the sender's address has it (`identifiers.email`), whichever form SES wrote."""
    name = value.strip().strip('"').strip().rstrip(".").lower()
    try:
        return identifiers.ascii_domain(name) if name else name
    except InvalidIdentifierError:
        return name


def _ses_results(headers: Iterable[tuple[str, str]]) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """SES's results by method (`spf`, `dkim`, `dmarc`, ...): each result, lower-cased, with its
    properties (`header.from` → its value). Empty when the topmost `Authentication-Results` is not SES's.
    """
    top = next(
        (str(value) for name, value in headers if name.strip().lower() == AUTHENTICATION_RESULTS), None
    )
    if top is None:
        return {}
    authserv, *resinfos = _split_unquoted(_without_comments(top))
    if _domain(authserv.split()[0] if authserv.split() else "") != SES_AUTHSERV_ID:
        return {}
    results: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for resinfo in resinfos:
        start = _RESULT.match(resinfo)
        if start is None:
            continue  # "none", or something unreadable: no result
        properties = {
            f"{found.group(1)}.{found.group(2)}".lower(): found.group(3)
            for found in _PROPERTY.finditer(resinfo, start.end())
            if found.group(1) is not None
        }
        results.setdefault(start.group(1).lower(), []).append((start.group(2).lower(), properties))
    return results


def sender_authenticated(headers: Iterable[tuple[str, str]], from_domain: str) -> bool:
    """Whether SES authenticated the `From` address: SPF or DKIM passed, and DMARC passed for exactly
    `from_domain` (the domain of the address we take as the sender). Only then does the daily limit
    count the mail under that address (P10, issue 9): anyone can write anyone's address in `From`.

    `headers` are the message's (name, raw value) pairs, top first. Which header counts:

    - Only the topmost `Authentication-Results`, and only when its authserv-id is SES's
      (`amazonses.com`). SES prepends its trace headers on receipt, and with scanning on (the
      template's receipt rule) it always adds this one, so SES's is the first. Every one below it
      was written by the sender or a server before SES, and a sender can write
      `amazonses.com; dmarc=pass` as easily as anything else. If the topmost is not SES's, SES
      wrote none: not authenticated.
    - SPF or DKIM alone is not enough: SPF checks the envelope sender and DKIM any signing domain,
      neither of which need be the `From` domain. DMARC pass means one of them passed aligned with
      the `From` domain (RFC 7489), so it is required; every DMARC result must be `pass`, and its
      `header.from` must be `from_domain` (a mail with two `From` headers or addresses may have had
      DMARC checked on another one than ours).
    - `Received-SPF` is not read: it repeats the SPF result and says nothing of alignment.
      `X-SES-Spam-Verdict` and `X-SES-Virus-Verdict` say nothing about who sent the mail.

    Methods, results and properties are read in any case and with any spacing (RFC 8601 allows
    CFWS); comments count for nothing. Pure, and never logs or raises with a header value: those
    hold the sender's address (P3).
    """
    results = _ses_results(headers)
    dmarc = results.get("dmarc", [])
    if not dmarc:
        return False
    domain = _domain(from_domain)
    for result, properties in dmarc:
        if result != "pass" or _domain(properties.get("header.from", "")) != domain or not domain:
            return False
    return any(result == "pass" for method in ("spf", "dkim") for result, _ in results.get(method, []))
