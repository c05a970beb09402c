"""Provider adapters: verify a provider's request and turn it into one domain event (DESIGN).

One module per provider: `twilio` (Programmable Voice webhooks), `connect` (Amazon Connect contact
flows and EventBridge contact events), `chat` (our own web chat webhook format) and `email` (raw MIME
that SES stores in S3). Each produces only `ContactStarted`, `TranscriptPart` and `ContactEnded`
(`helpline.models.events`), so nothing past an adapter knows a provider's field names, and each keeps
the caller's number, IP or e-mail address inside an `Identifier` from the moment it is read (P2, P3).

The modules are pure: no AWS, no I/O, no clock (the caller passes `now`). The errors they raise are
re-exported here.
"""

from __future__ import annotations

from helpline.providers.errors import MalformedEvent, PayloadTooLarge, SignatureError

__all__ = ["MalformedEvent", "PayloadTooLarge", "SignatureError"]
