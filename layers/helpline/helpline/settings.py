"""The function's environment, parsed once into a model.

Each function gets from template.yaml only the variables it needs (least privilege: the lines
function knows no contacts table). So a missing variable is no error at import time; it is one, with
a message that names the variable, the first time code asks for that setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache


class MissingSettingError(RuntimeError):
    """A setting was used that this function's environment does not give."""

    def __init__(self, variable: str) -> None:
        super().__init__(
            f"Environment variable {variable} is not set: give it to this function in template.yaml"
        )
        self.variable = variable


class InvalidSettingError(RuntimeError):
    """A setting is present but not a value this code can use (say, a limit of `three`)."""

    def __init__(self, variable: str, expected: str) -> None:
        super().__init__(f"Environment variable {variable} must be {expected}: fix it in template.yaml")
        self.variable = variable


class Settings:
    """Environment variables, by their template names; read them through the properties.

    A plain class over a copy of the environment, not a pydantic model: every variable is text, kept
    as text and parsed where used (CONTACT_LIMIT_PER_DAY comes from Globals, so a bad value must break
    only the code that counts, not every function at its first setting). Building a 50-field model
    cost each function about 80 ms of its cold start for nothing a caller needs.
    """

    __slots__ = ("_environment",)

    def __init__(self, environment: Mapping[str, str]) -> None:
        self._environment = dict(environment)

    def _variable(self, variable: str) -> str | None:
        """The variable's value; an empty one is as good as none, not a table named ''."""
        value = self._environment.get(variable)
        if value is None or not value.strip():
            return None
        return value

    def _required(self, variable: str) -> str:
        value = self._variable(variable)
        if value is None:
            raise MissingSettingError(variable)
        return value

    def _positive_int(self, variable: str, default: int) -> int:
        value = self._variable(variable)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            raise InvalidSettingError(variable, "a whole number") from None
        if number < 1:
            raise InvalidSettingError(variable, "at least 1")
        return number

    @property
    def public_base_url(self) -> str | None:
        """Public base URL Twilio calls, when it differs from the URL API Gateway sees (custom domain)."""
        return self._variable("PUBLIC_BASE_URL")

    @property
    def lines_table(self) -> str:
        """Name of the line registry table (LinesTable)."""
        return self._required("LINES_TABLE")

    @property
    def contacts_table(self) -> str:
        """Name of the anonymised contact registration table (ContactsTable, P8)."""
        return self._required("CONTACTS_TABLE")

    @property
    def identifier_key_arn(self) -> str:
        """ARN of the KMS key that encrypts identifiers (IdentifierKey, P2, P3).

        A key ARN, not an alias: the Encryption SDK records the key ARN in each message, and the
        disclosure path can decrypt only with a provider set up on that same ARN.
        """
        return self._required("IDENTIFIER_KEY_ARN")

    @property
    def transcript_key_arn(self) -> str:
        """ARN of the KMS key that encrypts chat and e-mail transcripts (TranscriptKey, P8)."""
        return self._required("TRANSCRIPT_KEY_ARN")

    @property
    def pseudonym_key_id(self) -> str:
        """Id, ARN or alias of the HMAC key behind the daily-limit pseudonym (PseudonymKey, P10)."""
        return self._required("PSEUDONYM_KEY_ID")

    @property
    def contact_limit_table(self) -> str:
        """Name of the per-pseudonym slot table of the daily limit (ContactLimitTable, P10)."""
        return self._required("CONTACT_LIMIT_TABLE")

    @property
    def references_table(self) -> str:
        """Name of the table of keyed hashes of provider references (ReferencesTable)."""
        return self._required("REFERENCES_TABLE")

    @property
    def transcripts_table(self) -> str:
        """Name of the encrypted transcript table (TranscriptsTable, P8)."""
        return self._required("TRANSCRIPTS_TABLE")

    @property
    def office_contacts_table(self) -> str:
        """Name of the office-line contact table, kept apart from helpline data (OfficeContactsTable, P11)."""
        return self._required("OFFICE_CONTACTS_TABLE")

    @property
    def registration_buffer_queue_url(self) -> str:
        """URL of the queue where registrations wait when storage failed (RegistrationBufferQueue)."""
        return self._required("REGISTRATION_BUFFER_QUEUE_URL")

    @property
    def contact_limit_per_day(self) -> int:
        """Contacts one person may make in a rolling 24 hours (P10); default 3."""
        return self._positive_int("CONTACT_LIMIT_PER_DAY", 3)

    @property
    def identifier_retention_days(self) -> int:
        """Days an encrypted identifier or transcript is kept for a possible demand (P7); default 365."""
        return self._positive_int("IDENTIFIER_RETENTION_DAYS", 365)

    @property
    def office_retention_days(self) -> int:
        """Days an office-line contact is kept once its purpose has passed (P11); default 30."""
        return self._positive_int("OFFICE_RETENTION_DAYS", 30)

    @property
    def twilio_auth_token_secret_arn(self) -> str:
        """Secret holding the Twilio auth token that signs voice webhooks (TwilioAuthTokenSecret)."""
        return self._required("TWILIO_AUTH_TOKEN_SECRET_ARN")

    @property
    def chat_webhook_secret_arn(self) -> str:
        """Secret shared with the chat platform that signs chat webhooks (ChatWebhookSecret)."""
        return self._required("CHAT_WEBHOOK_SECRET_ARN")

    @property
    def reports_table(self) -> str:
        """Volunteer reports, scrubbed before storage (ReportsTable, P5, P8)."""
        return self._required("REPORTS_TABLE")

    @property
    def statistics_table(self) -> str:
        """Statistics aggregates kept by the stream consumer (StatisticsTable, P8)."""
        return self._required("STATISTICS_TABLE")

    @property
    def audit_table(self) -> str:
        """The tamper-evident audit log (AuditTable, P7, P9)."""
        return self._required("AUDIT_TABLE")

    @property
    def supervision_table(self) -> str:
        """The record of listening in (SupervisionTable, P9)."""
        return self._required("SUPERVISION_TABLE")

    @property
    def stats_min_cell_size(self) -> int:
        """k: statistics cells with fewer contacts are reported as "<k" (P8); default 5."""
        return self._positive_int("STATS_MIN_CELL_SIZE", 5)

    @property
    def disclosures_table(self) -> str:
        """Disclosure requests and their one-time results (DisclosuresTable, P6, P7)."""
        return self._required("DISCLOSURES_TABLE")

    @property
    def disclosure_key_arn(self) -> str:
        """ARN of the key that seals a waiting task token and a released result (DisclosureKey, P7)."""
        return self._required("DISCLOSURE_KEY_ARN")

    @property
    def disclosure_approvals_needed(self) -> int:
        """Distinct compliance approvals a disclosure needs, none by its requester (P7); default 1."""
        return self._positive_int("DISCLOSURE_APPROVALS_NEEDED", 1)

    @property
    def disclosure_approval_seconds(self) -> int:
        """Deadline for a compliance decision (P7): DISCLOSURE_APPROVAL_SECONDS if set (tests, the local
        stack), else DISCLOSURE_APPROVAL_HOURS hours; default 72 hours."""
        if self._variable("DISCLOSURE_APPROVAL_SECONDS") is not None:
            return self._positive_int("DISCLOSURE_APPROVAL_SECONDS", 1)
        return 3600 * self._positive_int("DISCLOSURE_APPROVAL_HOURS", 72)

    @property
    def disclosure_state_machine_arn(self) -> str:
        """ARN of the disclosure workflow (DisclosureStateMachine, P7)."""
        return self._required("DISCLOSURE_STATE_MACHINE_ARN")

    @property
    def compliance_topic_arn(self) -> str:
        """SNS topic that tells compliance a disclosure waits for a decision (ComplianceTopic)."""
        return self._required("COMPLIANCE_TOPIC_ARN")

    # ------------------------------------------------------------ per-period keys (P7, crypto-shredding)
    @property
    def identifier_key_alias_prefix(self) -> str:
        """Alias ARN prefix of the custodian's per-period identifier keys (`<prefix>/<YYYY-MM>`, P2, P3, P7).

        An alias ARN, because the keys live in the custodian's account: KMS takes a key in another
        account only by its key or alias ARN. The Encryption SDK records each period key's ARN in the
        message, so a message names the one key that can open it, until that key is destroyed.
        """
        return self._required("IDENTIFIER_KEY_ALIAS_PREFIX")

    @property
    def transcript_key_alias_prefix(self) -> str:
        """Alias ARN prefix of the organisation's per-period transcript keys (P8)."""
        return self._required("TRANSCRIPT_KEY_ALIAS_PREFIX")

    @property
    def transcript_retention_days(self) -> int:
        """Days a chat or e-mail transcript is kept, counted from our receipt (P4, P8); default 180."""
        return self._positive_int("TRANSCRIPT_RETENTION_DAYS", 180)

    @property
    def register_retention_days(self) -> int:
        """Days an anonymised register record is kept, counted from our receipt (P8); default 730."""
        return self._positive_int("REGISTER_RETENTION_DAYS", 730)

    @property
    def key_admin_account(self) -> str:
        """Account that administers this stack's period keys (the custodian's for identifier keys)."""
        return self._required("KEY_ADMIN_ACCOUNT")

    @property
    def key_deletion_window_days(self) -> int:
        """Days between retiring a period key and KMS destroying it (7 to 30); default 7."""
        days = self._positive_int("KEY_DELETION_WINDOW_DAYS", 7)
        if not 7 <= days <= 30:
            raise InvalidSettingError("KEY_DELETION_WINDOW_DAYS", "between 7 and 30 (KMS's pending window)")
        return days

    @property
    def identifier_key_encrypt_account(self) -> str:
        """Account whose principals may encrypt (never decrypt) under identifier keys: the organisation's."""
        return self._required("IDENTIFIER_KEY_ENCRYPT_ACCOUNT")

    @property
    def identifier_key_decrypt_role_arn(self) -> str:
        """The one role that may decrypt under identifier keys: the custodian's disclosure decrypt role."""
        return self._required("IDENTIFIER_KEY_DECRYPT_ROLE_ARN")

    @property
    def transcript_key_encrypt_account(self) -> str:
        """Account whose principals may encrypt under transcript keys."""
        return self._required("TRANSCRIPT_KEY_ENCRYPT_ACCOUNT")

    @property
    def transcript_key_decrypt_role_arn(self) -> str:
        """The one role that may decrypt under transcript keys: the transcript reader's."""
        return self._required("TRANSCRIPT_KEY_DECRYPT_ROLE_ARN")

    # ------------------------------------------------------------ the custodian (P3, P7)
    @property
    def releases_table(self) -> str:
        """The custodian's own record of each release and its officer's decision (ReleasesTable)."""
        return self._required("RELEASES_TABLE")

    @property
    def organisation_contacts_table_arn(self) -> str:
        """The organisation's ContactsTable, by ARN: the custodian reads a contact's ciphertext from it."""
        return self._required("ORGANISATION_CONTACTS_TABLE_ARN")

    @property
    def organisation_disclosure_results_table_arn(self) -> str:
        """The organisation's DisclosureResultsTable, by ARN: the custodian puts the sealed result there."""
        return self._required("ORGANISATION_DISCLOSURE_RESULTS_TABLE_ARN")

    @property
    def disclosure_results_table(self) -> str:
        """Released results until their one retrieval, 24 hours at most, never backed up (P7)."""
        return self._required("DISCLOSURE_RESULTS_TABLE")

    @property
    def release_confirmation_seconds(self) -> int:
        """Deadline for a custodian officer's decision on a release: RELEASE_CONFIRMATION_SECONDS if set
        (tests, the local stack), else RELEASE_CONFIRMATION_HOURS hours; default 72 hours."""
        if self._variable("RELEASE_CONFIRMATION_SECONDS") is not None:
            return self._positive_int("RELEASE_CONFIRMATION_SECONDS", 1)
        return 3600 * self._positive_int("RELEASE_CONFIRMATION_HOURS", 72)

    @property
    def custodian_poll_seconds(self) -> int:
        """Seconds the disclosure workflow waits between asking the custodian; default 300."""
        return self._positive_int("CUSTODIAN_POLL_SECONDS", 300)

    # ------------------------------------------------------------ audit checkpoints (P7)

    @property
    def audit_checkpoint_bucket(self) -> str:
        """The custodian's write-once bucket (Object Lock, compliance mode) of signed audit checkpoints."""
        return self._required("AUDIT_CHECKPOINT_BUCKET")

    @property
    def audit_signing_key_arn(self) -> str:
        """The custodian's asymmetric key (ECC_NIST_P256) that signs checkpoints, by key or alias ARN."""
        return self._required("AUDIT_SIGNING_KEY_ARN")

    @property
    def audit_checkpoint_retention_days(self) -> int:
        """Days a checkpoint stays locked against deletion and change; default 3650."""
        return self._positive_int("AUDIT_CHECKPOINT_RETENTION_DAYS", 3650)

    @property
    def line_changes_table(self) -> str:
        """Proposed line changes that wait for a second admin (LineChangesTable, P11, four eyes)."""
        return self._required("LINE_CHANGES_TABLE")

    # ------------------------------------------------------------ staff identity (P7: who recorded consent)

    @property
    def user_pool_id(self) -> str:
        """The organisation's Cognito user pool (UserPool): a consent's recorder must be one of its users."""
        return self._required("USER_POOL_ID")


@cache
def get_settings() -> Settings:
    """This process's settings, parsed on first use (tests call `get_settings.cache_clear()`)."""
    return Settings(os.environ)
