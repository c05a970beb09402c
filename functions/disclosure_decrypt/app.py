"""DisclosureDecryptFunction: the CUSTODIAN's decrypt function, the only code that opens an identifier.

Deployed in the custodian's account (P3, P7), as the one role the identifier keys let decrypt. The
organisation's workflow calls it (AskCustodian) with `{"disclosure_id", "contact_id"}`, again every
poll, and it answers from the custodian's OWN release record, never from anything the organisation
sends or stores:

- `pending` until a custodian officer decides; `refused` (with the officer, time and reason); `expired`
  when nobody decided before the deadline;
- `confirmed`: it reads the contact's `identifier_ciphertext` and `identifier_retain_until` from the
  organisation's ContactsTable (ORGANISATION_CONTACTS_TABLE_ARN); past retention (our clock) the release
  is `erased` and nothing is decrypted. Otherwise it opens the ciphertext under its period key, checks
  the contact id sealed inside, seals the result under the organisation's DisclosureKey
  (DISCLOSURE_KEY_ARN, context purpose=disclosure-result + disclosure_id), puts it as the `result`
  item of the organisation's DisclosureResultsTable (ORGANISATION_DISCLOSURE_RESULTS_TABLE_ARN, 24
  hours, never backed up), marks
  the release `released` and answers `decrypted` with the confirming officer;
- `released`: `decrypted` again, without decrypting again.

Neither its answer nor any error it raises or logs holds an identifier: a logic refusal is a fixed text
(statuses, ids), any other failure becomes `DisclosureDecryptFailed` with a fixed message, raised
without its cause, and only the error type is logged. Loaded by file path as well as by Lambda, so only
absolute imports.
"""

from __future__ import annotations

from typing import Any, Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpline import clock
from helpline.dal.disclosure_crypto import identifier_opener, result_sealer
from helpline.dal.disclosures import identifier_reader, result_drop
from helpline.dal.releases import release_store
from helpline.logic.releases import ReleaseError, StoredIdentifier, release_identifier
from helpline.models.disclosures import SealedIdentifier
from helpline.models.releases import CustodianAnswer, CustodianDecryptEvent

logger = Logger()
FAILURE_MESSAGE: Final = "The identifier could not be decrypted for delivery"


class DisclosureDecryptFailed(Exception):
    """The one error this function raises; its message is fixed, or a plain reason without values."""


class _ContactIdentifiers:
    """`IdentifierSource`: the organisation's ContactsTable by ARN, opened under the period keys."""

    def stored(self, contact_id: str) -> StoredIdentifier | None:
        return identifier_reader().stored(contact_id)

    def open(self, ciphertext: str) -> SealedIdentifier:
        return identifier_opener().open(ciphertext)


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    """`{"disclosure_id", "contact_id"}` in; `{"disclosure_id", "status", "decided_by"?, "decided_at"?,
    "reason"?}` out (ids, statuses and the officer's decision only)."""
    try:
        request = CustodianDecryptEvent.model_validate(event)
    except Exception:
        raise DisclosureDecryptFailed("invalid decrypt event") from None
    logger.append_keys(disclosure_id=request.disclosure_id)
    answer: CustodianAnswer | None = None
    reason: str | None = None
    try:
        answer = release_identifier(
            request.disclosure_id,
            request.contact_id,
            release_store(),
            _ContactIdentifiers(),
            result_sealer(),
            result_drop(),
            clock.now(),
        )
    except ReleaseError as error:
        # Logic reasons are fixed texts (statuses, "does not belong"), never values.
        reason = error.reason
    except Exception as error:
        logger.error("Disclosure decrypt failed", extra={"error_type": type(error).__name__})
        reason = FAILURE_MESSAGE
    if answer is None:
        logger.warning("Disclosure not decrypted", extra={"reason": reason})
        raise DisclosureDecryptFailed(reason or FAILURE_MESSAGE)
    logger.info("Custodian answered", extra={"status": answer.status})
    shown: dict[str, str] = answer.model_dump(mode="json", exclude_none=True)
    return shown
