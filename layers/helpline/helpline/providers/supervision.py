"""Silent monitoring at the provider (P9), behind `logic.supervision.SupervisionProvider`.

Our record holds only our contact id. The provider's own reference to the call (Connect ContactId,
Twilio conference) leads back to the caller, so it is stored only encrypted and only the disclosure path
may decrypt it (P2, P7). The live adapters therefore do not look it up themselves: they are given, per
deployment, a `resolve` function from our contact id to the provider session to monitor (for example
through the supervisor's own Connect agent session or the conference the helpline's call flow created).
Until that is configured, `NoLiveMonitoring` is the default: the act is recorded and the supervisor
joins through the provider's own console.

The adapters return a label, never the provider's id of the monitoring leg: that id is linked to the
caller's contact at the provider.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from helpline.logic.ports import DependencyError
from helpline.models.supervision import SupervisionMode

RECORDED_ONLY: Final = "recorded-only"


class NoLiveMonitoring:
    """Records only: no provider call (the default until live wiring is configured per deployment)."""

    name: str = RECORDED_ONLY

    def start_monitoring(self, contact_id: str, mode: SupervisionMode, supervisor: str) -> str:
        """Nothing to start; the record is what P9 requires."""
        return RECORDED_ONLY


class ConnectSupervision:
    """Amazon Connect `MonitorContact` with `SILENT_MONITOR` only (unannounced, never barge in, P9).

    `client` is a boto3 Connect client; `resolve_contact` maps our contact id to the Connect ContactId
    and `user_id_for` a supervisor's username to their Connect user id (both configured per deployment).
    """

    name: str = "connect-silent-monitor"

    def __init__(
        self,
        client: Any,
        instance_id: str,
        resolve_contact: Callable[[str], str],
        user_id_for: Callable[[str], str],
    ) -> None:
        self._client = client
        self._instance_id = instance_id
        self._resolve_contact = resolve_contact
        self._user_id_for = user_id_for

    def start_monitoring(self, contact_id: str, mode: SupervisionMode, supervisor: str) -> str:
        """MonitorContact for the supervisor's Connect user; works for calls and chats alike."""
        try:
            self._client.monitor_contact(
                InstanceId=self._instance_id,
                ContactId=self._resolve_contact(contact_id),
                UserId=self._user_id_for(supervisor),
                AllowedMonitorCapabilities=["SILENT_MONITOR"],
            )
        except (ClientError, BotoCoreError):
            raise DependencyError("connect: MonitorContact failed") from None
        return self.name


class TwilioSupervision:
    """Twilio: adds the supervisor as a muted participant, without a beep, to the call's conference.

    `client` is a `twilio.rest.Client` (or a fake); `resolve_conference` maps our contact id to the
    conference SID, `endpoint_for` a supervisor's username to what Twilio should dial (a `client:` or
    `sip:` address), and `caller_id` is the helpline number the leg is placed from. Twilio carries calls
    only: reading along with a chat or e-mail happens in the chat or mail tool, so `read` records only.
    """

    name: str = "twilio-muted-participant"

    def __init__(
        self,
        client: Any,
        resolve_conference: Callable[[str], str],
        endpoint_for: Callable[[str], str],
        caller_id: str,
    ) -> None:
        self._client = client
        self._resolve_conference = resolve_conference
        self._endpoint_for = endpoint_for
        self._caller_id = caller_id

    def start_monitoring(self, contact_id: str, mode: SupervisionMode, supervisor: str) -> str:
        """Create the muted participant; any Twilio failure as DependencyError naming no value."""
        if mode != "listen":
            return RECORDED_ONLY
        try:
            self._client.conferences(self._resolve_conference(contact_id)).participants.create(
                from_=self._caller_id,
                to=self._endpoint_for(supervisor),
                muted=True,
                beep="false",
            )
        except Exception as error:  # twilio's errors are not importable here (no runtime dependency)
            if type(error).__module__.startswith(("twilio", "requests")):
                raise DependencyError("twilio: add participant failed") from None
            raise
        return self.name
