"""The function's environment, parsed once into a model.

Each function gets from template.yaml only the variables it needs (least privilege: the lines
function knows no contacts table). So a missing variable is no error at import time; it is one, with
a message that names the variable, the first time code asks for that setting.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, field_validator


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


class Settings(BaseModel):
    """Environment variables, by their template names; read them through the properties."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    lines_table_name: str | None = Field(default=None, validation_alias="LINES_TABLE")
    contacts_table_name: str | None = Field(default=None, validation_alias="CONTACTS_TABLE")
    identifier_key_arn_value: str | None = Field(default=None, validation_alias="IDENTIFIER_KEY_ARN")
    transcript_key_arn_value: str | None = Field(default=None, validation_alias="TRANSCRIPT_KEY_ARN")
    pseudonym_key_id_value: str | None = Field(default=None, validation_alias="PSEUDONYM_KEY_ID")
    contact_limit_table_name: str | None = Field(default=None, validation_alias="CONTACT_LIMIT_TABLE")
    references_table_name: str | None = Field(default=None, validation_alias="REFERENCES_TABLE")
    transcripts_table_name: str | None = Field(default=None, validation_alias="TRANSCRIPTS_TABLE")
    office_contacts_table_name: str | None = Field(default=None, validation_alias="OFFICE_CONTACTS_TABLE")
    registration_buffer_queue_url_value: str | None = Field(
        default=None, validation_alias="REGISTRATION_BUFFER_QUEUE_URL"
    )
    # Numbers are kept as text and parsed where used: CONTACT_LIMIT_PER_DAY comes from Globals, so a
    # bad value must break only the code that counts, not every function at its first setting.
    contact_limit_per_day_value: str | None = Field(default=None, validation_alias="CONTACT_LIMIT_PER_DAY")
    identifier_retention_days_value: str | None = Field(
        default=None, validation_alias="IDENTIFIER_RETENTION_DAYS"
    )
    office_retention_days_value: str | None = Field(default=None, validation_alias="OFFICE_RETENTION_DAYS")
    twilio_auth_token_secret_arn_value: str | None = Field(
        default=None, validation_alias="TWILIO_AUTH_TOKEN_SECRET_ARN"
    )
    chat_webhook_secret_arn_value: str | None = Field(
        default=None, validation_alias="CHAT_WEBHOOK_SECRET_ARN"
    )
    reports_table_name: str | None = Field(default=None, validation_alias="REPORTS_TABLE")
    statistics_table_name: str | None = Field(default=None, validation_alias="STATISTICS_TABLE")
    audit_table_name: str | None = Field(default=None, validation_alias="AUDIT_TABLE")
    supervision_table_name: str | None = Field(default=None, validation_alias="SUPERVISION_TABLE")
    stats_min_cell_size_value: str | None = Field(default=None, validation_alias="STATS_MIN_CELL_SIZE")
    disclosures_table_name: str | None = Field(default=None, validation_alias="DISCLOSURES_TABLE")
    disclosure_key_arn_value: str | None = Field(default=None, validation_alias="DISCLOSURE_KEY_ARN")
    disclosure_approvals_needed_value: str | None = Field(
        default=None, validation_alias="DISCLOSURE_APPROVALS_NEEDED"
    )
    disclosure_approval_seconds_value: str | None = Field(
        default=None, validation_alias="DISCLOSURE_APPROVAL_SECONDS"
    )
    disclosure_approval_hours_value: str | None = Field(
        default=None, validation_alias="DISCLOSURE_APPROVAL_HOURS"
    )
    disclosure_state_machine_arn_value: str | None = Field(
        default=None, validation_alias="DISCLOSURE_STATE_MACHINE_ARN"
    )
    compliance_topic_arn_value: str | None = Field(default=None, validation_alias="COMPLIANCE_TOPIC_ARN")
    identifier_key_alias_prefix_value: str | None = Field(
        default=None, validation_alias="IDENTIFIER_KEY_ALIAS_PREFIX"
    )
    transcript_key_alias_prefix_value: str | None = Field(
        default=None, validation_alias="TRANSCRIPT_KEY_ALIAS_PREFIX"
    )
    transcript_retention_days_value: str | None = Field(
        default=None, validation_alias="TRANSCRIPT_RETENTION_DAYS"
    )
    register_retention_days_value: str | None = Field(
        default=None, validation_alias="REGISTER_RETENTION_DAYS"
    )
    key_admin_account_value: str | None = Field(default=None, validation_alias="KEY_ADMIN_ACCOUNT")
    key_deletion_window_days_value: str | None = Field(
        default=None, validation_alias="KEY_DELETION_WINDOW_DAYS"
    )
    identifier_key_encrypt_account_value: str | None = Field(
        default=None, validation_alias="IDENTIFIER_KEY_ENCRYPT_ACCOUNT"
    )
    identifier_key_decrypt_role_arn_value: str | None = Field(
        default=None, validation_alias="IDENTIFIER_KEY_DECRYPT_ROLE_ARN"
    )
    transcript_key_encrypt_account_value: str | None = Field(
        default=None, validation_alias="TRANSCRIPT_KEY_ENCRYPT_ACCOUNT"
    )
    transcript_key_decrypt_role_arn_value: str | None = Field(
        default=None, validation_alias="TRANSCRIPT_KEY_DECRYPT_ROLE_ARN"
    )
    releases_table_name: str | None = Field(default=None, validation_alias="RELEASES_TABLE")
    organisation_contacts_table_arn_value: str | None = Field(
        default=None, validation_alias="ORGANISATION_CONTACTS_TABLE_ARN"
    )
    organisation_disclosure_results_table_arn_value: str | None = Field(
        default=None, validation_alias="ORGANISATION_DISCLOSURE_RESULTS_TABLE_ARN"
    )
    disclosure_results_table_name: str | None = Field(
        default=None, validation_alias="DISCLOSURE_RESULTS_TABLE"
    )
    release_confirmation_hours_value: str | None = Field(
        default=None, validation_alias="RELEASE_CONFIRMATION_HOURS"
    )
    release_confirmation_seconds_value: str | None = Field(
        default=None, validation_alias="RELEASE_CONFIRMATION_SECONDS"
    )
    custodian_poll_seconds_value: str | None = Field(default=None, validation_alias="CUSTODIAN_POLL_SECONDS")
    public_base_url: str | None = Field(default=None, validation_alias="PUBLIC_BASE_URL")
    """Public base URL Twilio calls, when it differs from the URL API Gateway sees (custom domain)."""
    line_changes_table_name: str | None = Field(default=None, validation_alias="LINE_CHANGES_TABLE")

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_missing(cls, value: object) -> object:
        """An empty variable is as good as none: treat it as missing, not as a table named ''."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def lines_table(self) -> str:
        """Name of the line registry table (LinesTable)."""
        return _required(self.lines_table_name, "LINES_TABLE")

    @property
    def contacts_table(self) -> str:
        """Name of the anonymised contact registration table (ContactsTable, P8)."""
        return _required(self.contacts_table_name, "CONTACTS_TABLE")

    @property
    def identifier_key_arn(self) -> str:
        """ARN of the KMS key that encrypts identifiers (IdentifierKey, P2, P3).

        A key ARN, not an alias: the Encryption SDK records the key ARN in each message, and the
        disclosure path can decrypt only with a provider set up on that same ARN.
        """
        return _required(self.identifier_key_arn_value, "IDENTIFIER_KEY_ARN")

    @property
    def transcript_key_arn(self) -> str:
        """ARN of the KMS key that encrypts chat and e-mail transcripts (TranscriptKey, P8)."""
        return _required(self.transcript_key_arn_value, "TRANSCRIPT_KEY_ARN")

    @property
    def pseudonym_key_id(self) -> str:
        """Id, ARN or alias of the HMAC key behind the daily-limit pseudonym (PseudonymKey, P10)."""
        return _required(self.pseudonym_key_id_value, "PSEUDONYM_KEY_ID")

    @property
    def contact_limit_table(self) -> str:
        """Name of the per-pseudonym slot table of the daily limit (ContactLimitTable, P10)."""
        return _required(self.contact_limit_table_name, "CONTACT_LIMIT_TABLE")

    @property
    def references_table(self) -> str:
        """Name of the table of keyed hashes of provider references (ReferencesTable)."""
        return _required(self.references_table_name, "REFERENCES_TABLE")

    @property
    def transcripts_table(self) -> str:
        """Name of the encrypted transcript table (TranscriptsTable, P8)."""
        return _required(self.transcripts_table_name, "TRANSCRIPTS_TABLE")

    @property
    def office_contacts_table(self) -> str:
        """Name of the office-line contact table, kept apart from helpline data (OfficeContactsTable, P11)."""
        return _required(self.office_contacts_table_name, "OFFICE_CONTACTS_TABLE")

    @property
    def registration_buffer_queue_url(self) -> str:
        """URL of the queue where registrations wait when storage failed (RegistrationBufferQueue)."""
        return _required(self.registration_buffer_queue_url_value, "REGISTRATION_BUFFER_QUEUE_URL")

    @property
    def contact_limit_per_day(self) -> int:
        """Contacts one person may make in a rolling 24 hours (P10); default 3."""
        return _positive_int(self.contact_limit_per_day_value, "CONTACT_LIMIT_PER_DAY", 3)

    @property
    def identifier_retention_days(self) -> int:
        """Days an encrypted identifier or transcript is kept for a possible demand (P7); default 365."""
        return _positive_int(self.identifier_retention_days_value, "IDENTIFIER_RETENTION_DAYS", 365)

    @property
    def office_retention_days(self) -> int:
        """Days an office-line contact is kept once its purpose has passed (P11); default 30."""
        return _positive_int(self.office_retention_days_value, "OFFICE_RETENTION_DAYS", 30)

    @property
    def twilio_auth_token_secret_arn(self) -> str:
        """Secret holding the Twilio auth token that signs voice webhooks (TwilioAuthTokenSecret)."""
        return _required(self.twilio_auth_token_secret_arn_value, "TWILIO_AUTH_TOKEN_SECRET_ARN")

    @property
    def chat_webhook_secret_arn(self) -> str:
        """Secret shared with the chat platform that signs chat webhooks (ChatWebhookSecret)."""
        return _required(self.chat_webhook_secret_arn_value, "CHAT_WEBHOOK_SECRET_ARN")

    @property
    def reports_table(self) -> str:
        """Volunteer reports, scrubbed before storage (ReportsTable, P5, P8)."""
        return _required(self.reports_table_name, "REPORTS_TABLE")

    @property
    def statistics_table(self) -> str:
        """Statistics aggregates kept by the stream consumer (StatisticsTable, P8)."""
        return _required(self.statistics_table_name, "STATISTICS_TABLE")

    @property
    def audit_table(self) -> str:
        """The tamper-evident audit log (AuditTable, P7, P9)."""
        return _required(self.audit_table_name, "AUDIT_TABLE")

    @property
    def supervision_table(self) -> str:
        """The record of listening in (SupervisionTable, P9)."""
        return _required(self.supervision_table_name, "SUPERVISION_TABLE")

    @property
    def stats_min_cell_size(self) -> int:
        """k: statistics cells with fewer contacts are reported as "<k" (P8); default 5."""
        return _positive_int(self.stats_min_cell_size_value, "STATS_MIN_CELL_SIZE", 5)

    @property
    def disclosures_table(self) -> str:
        """Disclosure requests and their one-time results (DisclosuresTable, P6, P7)."""
        return _required(self.disclosures_table_name, "DISCLOSURES_TABLE")

    @property
    def disclosure_key_arn(self) -> str:
        """ARN of the key that seals a waiting task token and a released result (DisclosureKey, P7)."""
        return _required(self.disclosure_key_arn_value, "DISCLOSURE_KEY_ARN")

    @property
    def disclosure_approvals_needed(self) -> int:
        """Distinct compliance approvals a disclosure needs, none by its requester (P7); default 1."""
        return _positive_int(self.disclosure_approvals_needed_value, "DISCLOSURE_APPROVALS_NEEDED", 1)

    @property
    def disclosure_approval_seconds(self) -> int:
        """Deadline for a compliance decision (P7): DISCLOSURE_APPROVAL_SECONDS if set (tests, the local
        stack), else DISCLOSURE_APPROVAL_HOURS hours; default 72 hours."""
        if self.disclosure_approval_seconds_value is not None:
            return _positive_int(self.disclosure_approval_seconds_value, "DISCLOSURE_APPROVAL_SECONDS", 1)
        return 3600 * _positive_int(self.disclosure_approval_hours_value, "DISCLOSURE_APPROVAL_HOURS", 72)

    @property
    def disclosure_state_machine_arn(self) -> str:
        """ARN of the disclosure workflow (DisclosureStateMachine, P7)."""
        return _required(self.disclosure_state_machine_arn_value, "DISCLOSURE_STATE_MACHINE_ARN")

    @property
    def compliance_topic_arn(self) -> str:
        """SNS topic that tells compliance a disclosure waits for a decision (ComplianceTopic)."""
        return _required(self.compliance_topic_arn_value, "COMPLIANCE_TOPIC_ARN")

    # ------------------------------------------------------------ per-period keys (P7, crypto-shredding)
    @property
    def identifier_key_alias_prefix(self) -> str:
        """Alias ARN prefix of the custodian's per-period identifier keys (`<prefix>/<YYYY-MM>`, P2, P3, P7).

        An alias ARN, because the keys live in the custodian's account: KMS takes a key in another
        account only by its key or alias ARN. The Encryption SDK records each period key's ARN in the
        message, so a message names the one key that can open it, until that key is destroyed.
        """
        return _required(self.identifier_key_alias_prefix_value, "IDENTIFIER_KEY_ALIAS_PREFIX")

    @property
    def transcript_key_alias_prefix(self) -> str:
        """Alias ARN prefix of the organisation's per-period transcript keys (P8)."""
        return _required(self.transcript_key_alias_prefix_value, "TRANSCRIPT_KEY_ALIAS_PREFIX")

    @property
    def transcript_retention_days(self) -> int:
        """Days a chat or e-mail transcript is kept, counted from our receipt (P4, P8); default 180."""
        return _positive_int(self.transcript_retention_days_value, "TRANSCRIPT_RETENTION_DAYS", 180)

    @property
    def register_retention_days(self) -> int:
        """Days an anonymised register record is kept, counted from our receipt (P8); default 730."""
        return _positive_int(self.register_retention_days_value, "REGISTER_RETENTION_DAYS", 730)

    @property
    def key_admin_account(self) -> str:
        """Account that administers this stack's period keys (the custodian's for identifier keys)."""
        return _required(self.key_admin_account_value, "KEY_ADMIN_ACCOUNT")

    @property
    def key_deletion_window_days(self) -> int:
        """Days between retiring a period key and KMS destroying it (7 to 30); default 7."""
        days = _positive_int(self.key_deletion_window_days_value, "KEY_DELETION_WINDOW_DAYS", 7)
        if not 7 <= days <= 30:
            raise InvalidSettingError("KEY_DELETION_WINDOW_DAYS", "between 7 and 30 (KMS's pending window)")
        return days

    @property
    def identifier_key_encrypt_account(self) -> str:
        """Account whose principals may encrypt (never decrypt) under identifier keys: the organisation's."""
        return _required(self.identifier_key_encrypt_account_value, "IDENTIFIER_KEY_ENCRYPT_ACCOUNT")

    @property
    def identifier_key_decrypt_role_arn(self) -> str:
        """The one role that may decrypt under identifier keys: the custodian's disclosure decrypt role."""
        return _required(self.identifier_key_decrypt_role_arn_value, "IDENTIFIER_KEY_DECRYPT_ROLE_ARN")

    @property
    def transcript_key_encrypt_account(self) -> str:
        """Account whose principals may encrypt under transcript keys."""
        return _required(self.transcript_key_encrypt_account_value, "TRANSCRIPT_KEY_ENCRYPT_ACCOUNT")

    @property
    def transcript_key_decrypt_role_arn(self) -> str:
        """The one role that may decrypt under transcript keys: the transcript reader's."""
        return _required(self.transcript_key_decrypt_role_arn_value, "TRANSCRIPT_KEY_DECRYPT_ROLE_ARN")

    # ------------------------------------------------------------ the custodian (P3, P7)
    @property
    def releases_table(self) -> str:
        """The custodian's own record of each release and its officer's decision (ReleasesTable)."""
        return _required(self.releases_table_name, "RELEASES_TABLE")

    @property
    def organisation_contacts_table_arn(self) -> str:
        """The organisation's ContactsTable, by ARN: the custodian reads a contact's ciphertext from it."""
        return _required(self.organisation_contacts_table_arn_value, "ORGANISATION_CONTACTS_TABLE_ARN")

    @property
    def organisation_disclosure_results_table_arn(self) -> str:
        """The organisation's DisclosureResultsTable, by ARN: the custodian puts the sealed result there."""
        return _required(
            self.organisation_disclosure_results_table_arn_value, "ORGANISATION_DISCLOSURE_RESULTS_TABLE_ARN"
        )

    @property
    def disclosure_results_table(self) -> str:
        """Released results until their one retrieval, 24 hours at most, never backed up (P7)."""
        return _required(self.disclosure_results_table_name, "DISCLOSURE_RESULTS_TABLE")

    @property
    def release_confirmation_seconds(self) -> int:
        """Deadline for a custodian officer's decision on a release: RELEASE_CONFIRMATION_SECONDS if set
        (tests, the local stack), else RELEASE_CONFIRMATION_HOURS hours; default 72 hours."""
        if self.release_confirmation_seconds_value is not None:
            return _positive_int(self.release_confirmation_seconds_value, "RELEASE_CONFIRMATION_SECONDS", 1)
        return 3600 * _positive_int(self.release_confirmation_hours_value, "RELEASE_CONFIRMATION_HOURS", 72)

    @property
    def custodian_poll_seconds(self) -> int:
        """Seconds the disclosure workflow waits between asking the custodian; default 300."""
        return _positive_int(self.custodian_poll_seconds_value, "CUSTODIAN_POLL_SECONDS", 300)

    # ------------------------------------------------------------ audit checkpoints (P7)
    audit_checkpoint_bucket_name: str | None = Field(default=None, validation_alias="AUDIT_CHECKPOINT_BUCKET")
    audit_signing_key_arn_value: str | None = Field(default=None, validation_alias="AUDIT_SIGNING_KEY_ARN")
    audit_checkpoint_retention_days_value: str | None = Field(
        default=None, validation_alias="AUDIT_CHECKPOINT_RETENTION_DAYS"
    )

    @property
    def audit_checkpoint_bucket(self) -> str:
        """The custodian's write-once bucket (Object Lock, compliance mode) of signed audit checkpoints."""
        return _required(self.audit_checkpoint_bucket_name, "AUDIT_CHECKPOINT_BUCKET")

    @property
    def audit_signing_key_arn(self) -> str:
        """The custodian's asymmetric key (ECC_NIST_P256) that signs checkpoints, by key or alias ARN."""
        return _required(self.audit_signing_key_arn_value, "AUDIT_SIGNING_KEY_ARN")

    @property
    def audit_checkpoint_retention_days(self) -> int:
        """Days a checkpoint stays locked against deletion and change; default 3650."""
        return _positive_int(
            self.audit_checkpoint_retention_days_value, "AUDIT_CHECKPOINT_RETENTION_DAYS", 3650
        )

    @property
    def line_changes_table(self) -> str:
        """Proposed line changes that wait for a second admin (LineChangesTable, P11, four eyes)."""
        return _required(self.line_changes_table_name, "LINE_CHANGES_TABLE")

    # ------------------------------------------------------------ staff identity (P7: who recorded consent)
    user_pool_id_value: str | None = Field(default=None, validation_alias="USER_POOL_ID")

    @property
    def user_pool_id(self) -> str:
        """The organisation's Cognito user pool (UserPool): a consent's recorder must be one of its users."""
        return _required(self.user_pool_id_value, "USER_POOL_ID")


def _required(value: str | None, variable: str) -> str:
    if value is None:
        raise MissingSettingError(variable)
    return value


def _positive_int(value: str | None, variable: str, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise InvalidSettingError(variable, "a whole number") from None
    if number < 1:
        raise InvalidSettingError(variable, "at least 1")
    return number


@cache
def get_settings() -> Settings:
    """This process's settings, parsed on first use (tests call `get_settings.cache_clear()`)."""
    return Settings.model_validate(dict(os.environ))
