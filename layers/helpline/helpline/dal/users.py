"""The organisation's Cognito user pool (USER_POOL_ID), asked one thing: is this a user of it?

P7: anonymity is broken with the person's consent only when a member of staff recorded it, so a
consent's `recorded_by` must name a user of the pool; `cognito-idp:AdminGetUser` answers that, and the
disclosures function's role needs nothing else of Cognito. Nothing of the answer is kept or logged
beyond the yes or no.

The client is made on first use by each adapter, not once per process: a consent request is rare, and a
client kept per process would outlive the deployment it was made for (see `helpline.process`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from helpline.dal.retries import CALLER_IS_WAITING
from helpline.logic.ports import DependencyError
from helpline.settings import get_settings

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp.client import CognitoIdentityProviderClient

_NO_SUCH_USER: Final = "UserNotFoundException"


class CognitoUserDirectory:
    """`UserDirectory` on the pool named by USER_POOL_ID (read on first use: a request on a legal order
    never needs it)."""

    def __init__(
        self, user_pool_id: str | None = None, client: CognitoIdentityProviderClient | None = None
    ) -> None:
        self._user_pool_id = user_pool_id
        self._client = client

    def exists(self, username: str) -> bool:
        """AdminGetUser: True if the pool has this user; UserNotFoundException is False. Any other
        failure is a DependencyError naming the operation only (AWS's message may quote the name)."""
        pool_id = self._user_pool_id or get_settings().user_pool_id
        if self._client is None:
            self._client = boto3.session.Session().client("cognito-idp", config=CALLER_IS_WAITING)
        try:
            self._client.admin_get_user(UserPoolId=pool_id, Username=username)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == _NO_SUCH_USER:
                return False
            raise DependencyError("cognito-idp: AdminGetUser failed") from None
        except BotoCoreError:
            raise DependencyError("cognito-idp: AdminGetUser failed") from None
        return True


def user_directory() -> CognitoUserDirectory:
    """The organisation's user pool (USER_POOL_ID)."""
    return CognitoUserDirectory()
