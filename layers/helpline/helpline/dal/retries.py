"""How hard the adapters try before a failure is handed to the domain (which fails open).

Three attempts in all, one-second connects, two-second reads: on the ingest path a caller is waiting
on the line, and what does not succeed quickly is buffered or skipped rather than retried for long
(DynamoDB's SDK default is ten retries with backoff, past Twilio's 15-second webhook timeout).
"""

from __future__ import annotations

from typing import Final

from botocore.config import Config

CALLER_IS_WAITING: Final = Config(
    retries={"mode": "standard", "total_max_attempts": 3}, connect_timeout=1, read_timeout=2
)
