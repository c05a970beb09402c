"""KMS key state in the AWS stand-in, so that crypto-shredding is real locally (P7, P8).

moto 5.2.5 accepts `DisableKey` and `ScheduleKeyDeletion` but still encrypts and decrypts with such a
key, and never deletes a key whose deletion date has passed. Real KMS refuses every cryptographic
operation with a key that is not `Enabled`, and destroys the key material at the end of the waiting
period, after which nothing sealed under it opens again. `install_key_state_hook` makes moto's KMS
backend refuse as KMS does; `purge_keys_due` destroys what is due, by the local stack's clock (which
an operator may move forward to rehearse retention), in every account and region of the stand-in.

moto's backend classes are process-wide, so what is changed here is put back by
`uninstall_key_state_hook`, as `local_stack.lambdas` does for Lambda.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from moto.core.exceptions import JsonRESTError

GUARDED_BY_KEY_ID: Final = ("encrypt", "generate_data_key", "generate_mac", "verify_mac")
"""Backend methods that name their key in `key_id` (an id, ARN, alias name or alias ARN)."""

GUARDED_BY_RESULT: Final = ("decrypt",)
"""Backend methods that find their key in the ciphertext: its state is checked on the key they used,
and the plaintext is dropped if that key is not enabled. `re_encrypt` goes through `decrypt` and
`encrypt`, so it is refused by both checks."""

_saved: dict[str, Any] = {}
_lock = threading.Lock()


class DisabledException(JsonRESTError):
    """What KMS answers for a cryptographic operation with a disabled key."""

    code = 400

    def __init__(self, key_arn: str) -> None:
        super().__init__("DisabledException", f"{key_arn} is disabled.")


class KMSInvalidStateException(JsonRESTError):
    """What KMS answers for a cryptographic operation with a key pending deletion (or another state)."""

    code = 400

    def __init__(self, key_arn: str, state: str) -> None:
        reason = "pending deletion" if state == "PendingDeletion" else f"in state {state}"
        super().__init__("KMSInvalidStateException", f"{key_arn} is {reason}.")


def _require_enabled(key: Any) -> None:
    state = getattr(key, "key_state", "Enabled")
    if state == "Enabled":
        return
    if state == "Disabled":
        raise DisabledException(key.arn)
    raise KMSInvalidStateException(key.arn, state)


def _guard_key_id(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    @functools.wraps(original)
    def guarded(backend: Any, *args: Any, **kwargs: Any) -> Any:
        key_id = signature.bind_partial(backend, *args, **kwargs).arguments.get("key_id")
        if isinstance(key_id, str):
            key = backend.keys.get(_resolve(backend, key_id))
            if key is not None:  # an unknown key: moto's own NotFoundException follows
                _require_enabled(key)
        return original(backend, *args, **kwargs)

    return guarded


def _guard_result(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def guarded(backend: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(backend, *args, **kwargs)
        _plaintext, key_arn = result
        key = backend.keys.get(backend.get_key_id(key_arn))
        if key is None:  # deleted while it decrypted: as good as never found
            raise KMSInvalidStateException(key_arn, "PendingDeletion")
        _require_enabled(key)
        return result

    return guarded


def _resolve(backend: Any, key_id: str) -> str | None:
    try:
        resolved: str | None = backend.any_id_to_key_id(key_id)
    except Exception:  # an alias that does not exist: moto answers NotFound itself
        return None
    return resolved


def _dated_by(now: Callable[[], datetime], original: Callable[..., Any]) -> Callable[..., Any]:
    """`schedule_key_deletion` with the deletion date counted from `now` (the local clock), not moto's."""

    @functools.wraps(original)
    def scheduled(backend: Any, key_id: str, pending_window_in_days: int) -> Any:
        result = original(backend, key_id, pending_window_in_days)
        key = backend.keys.get(key_id)
        if key is not None and key.key_state == "PendingDeletion":
            moment = now().astimezone(UTC).replace(tzinfo=None) + timedelta(days=pending_window_in_days)
            key.deletion_date = moment  # moto keeps naive UTC
            return moment.replace(tzinfo=UTC).timestamp()
        return result

    return scheduled


def install_key_state_hook(now: Callable[[], datetime] | None = None) -> None:
    """Make the stand-in's KMS refuse cryptographic operations with a key that is not `Enabled`.

    With `now` (the local stack passes `helpline.clock.now`), `ScheduleKeyDeletion` dates a key's
    destruction by that clock, so a rehearsal that moves the clock forward destroys keys when the
    moved clock passes their waiting period, not before. Installing twice changes nothing.
    """
    from moto.kms.models import KmsBackend

    with _lock:
        if _saved:
            return
        for name in GUARDED_BY_KEY_ID + GUARDED_BY_RESULT:
            original = KmsBackend.__dict__.get(name)
            if original is None:  # verify_mac came in a later moto than some
                continue
            _saved[name] = original
            guard = _guard_result if name in GUARDED_BY_RESULT else _guard_key_id
            setattr(KmsBackend, name, guard(original))
        if now is not None:
            original = KmsBackend.__dict__["schedule_key_deletion"]
            _saved["schedule_key_deletion"] = original
            KmsBackend.schedule_key_deletion = _dated_by(now, original)  # type: ignore[method-assign]


def uninstall_key_state_hook() -> None:
    """Put moto's KMS backend back as it was."""
    from moto.kms.models import KmsBackend

    with _lock:
        for name, original in _saved.items():
            setattr(KmsBackend, name, original)
        _saved.clear()


def purge_keys_due(now: datetime) -> list[str]:
    """Destroy every key pending deletion whose deletion date is at or before `now`, in every account
    and region of the stand-in; returns their ARNs.

    The key, its material, its aliases and its tags are gone, as after KMS's waiting period: a
    ciphertext made under it no longer decrypts with any credentials (moto answers NotFound or
    InvalidCiphertext). `now` must be timezone-aware.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    from moto.kms.models import kms_backends

    due = now.astimezone(UTC)
    purged: list[str] = []
    for account in list(dict.values(kms_backends)):
        for backend in list(dict.values(account)):
            for key in list(backend.keys.values()):
                deletion = key.deletion_date
                if key.key_state != "PendingDeletion" or deletion is None:
                    continue
                if (deletion if deletion.tzinfo else deletion.replace(tzinfo=UTC)) <= due:
                    backend.delete_key(key.id)
                    purged.append(key.arn)
    return purged
