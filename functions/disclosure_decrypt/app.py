"""DisclosureDecryptFunction: the only code that decrypts an identifier, for an approved request (P7).

Runs as DisclosureDecryptRole, the one role the identifier key lets decrypt. It opens the contact's
`identifier_ciphertext` with the Encryption SDK (context purpose=contact-identifier, the plaintext's
contact id checked against the request's), re-seals the result under DisclosureKey for the requester
(context purpose=disclosure-result) with an expiry 24 hours after approval, and records `decrypted`.

Neither its answer nor any error it raises holds an identifier: every failure becomes a
`DisclosureDecryptFailed` with a fixed message, raised without its cause, and only the error type is
logged. Loaded by file path as well as by Lambda, so only absolute imports.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline.dal.audit import audit_log
from helpline.dal.disclosure_crypto import identifier_opener, result_sealer
from helpline.dal.disclosures import disclosure_store, identifier_reader
from helpline.logic.disclosures import DisclosureError, decrypt_for_requester
from helpline.models.disclosures import DecryptEvent, SealedIdentifier

logger = Logger()
FAILURE_MESSAGE = "The identifier could not be decrypted for delivery"


class DisclosureDecryptFailed(Exception):
    """The one error this function raises; its message is fixed, or a plain reason without values."""


class _ContactIdentifiers:
    """`IdentifierSource`: ContactsTable's ciphertext, opened with the SDK."""

    def ciphertext(self, contact_id: str) -> str | None:
        return identifier_reader().ciphertext(contact_id)

    def open(self, ciphertext: str) -> SealedIdentifier:
        return identifier_opener().open(ciphertext)


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    """`{"disclosure_id"}` in; `{"disclosure_id", "status": "decrypted"}` out (ids only)."""
    try:
        request = DecryptEvent.model_validate(event)
    except Exception:
        raise DisclosureDecryptFailed("invalid decrypt event") from None
    logger.append_keys(disclosure_id=request.disclosure_id)
    reason: str | None = None
    try:
        decrypt_for_requester(
            request.disclosure_id,
            disclosure_store(),
            _ContactIdentifiers(),
            result_sealer(),
            audit_log(),
            datetime.now(UTC),
        )
    except DisclosureError as error:
        # Logic reasons are fixed texts (status names, "erased"), never values.
        reason = error.reason
    except Exception as error:
        logger.error("Disclosure decrypt failed", extra={"error_type": type(error).__name__})
        reason = FAILURE_MESSAGE
    if reason is not None:
        logger.warning("Disclosure not decrypted", extra={"reason": reason})
        raise DisclosureDecryptFailed(reason)
    logger.info("Disclosure decrypted")
    return {"disclosure_id": request.disclosure_id, "status": "decrypted"}
