"""The three ways a provider request can be refused, and why their messages are safe to show.

A handler maps them to HTTP answers: `SignatureError` → 403, `MalformedEvent` → 400,
`PayloadTooLarge` → 413. Their messages may end up in a response body, a log line or a trace, so they
never contain a value taken from the request: a request carries phone numbers, IP addresses, e-mail
addresses and provider references, and none of those may appear in clear outside the ingest path
(P2, P3). A message names the field and the problem ("missing field To"), never what was in it.
"""

from __future__ import annotations

from typing import Final

SIGNATURE_MESSAGE: Final = "invalid signature"


class SignatureError(Exception):
    """The request is not signed by the provider we share a secret with (→ HTTP 403).

    The message is always the same: telling a caller *why* a signature failed (stale, wrong port,
    wrong secret) only helps someone who is forging one.
    """

    def __init__(self) -> None:
        super().__init__(SIGNATURE_MESSAGE)


class MalformedEvent(Exception):
    """The request is signed but does not say what we need (→ HTTP 400).

    `problem` names the field and what is wrong with it. Callers must build it from constants and
    field names only, never from an input value (P2, P3).
    """

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class PayloadTooLarge(Exception):
    """The request, or a part of it, is larger than we accept (→ HTTP 413)."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
