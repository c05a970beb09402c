"""Run the template's Lambda handlers in-process, the way the Lambda service would.

Each function gets a small pool of execution environments: a separate import of its handler module, so
module-level state (a Powertools resolver, a cached client) is never shared by two concurrent requests,
as on Lambda. moto runs no Lambda code without Docker, so `install_moto_hook` replaces the simple
Lambda backend's `invoke` with a dispatch to these handlers: that is how Step Functions tasks, and
anything else that calls `lambda:Invoke` on the embedded stand-in, reach our code.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

Handler = Callable[[Any, Any], Any]
log = logging.getLogger("local_stack.lambda")


@dataclass
class FunctionSpec:
    """One function of the template, as the local runtime needs it."""

    logical_id: str
    name: str
    arn: str
    code_dir: Path
    handler: str  # "module.attribute", relative to code_dir
    timeout_s: int = 3
    memory_mb: int = 128
    events: dict[str, Any] = field(default_factory=dict)
    on_failure: str | None = None
    """Queue URL of the function's on-failure destination for asynchronous invocations, if any."""
    async_attempts: int = 3
    """Attempts of an asynchronous invocation before it goes to `on_failure` (1 + MaximumRetryAttempts)."""


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_s - elapsed) * 1000))


class FunctionError(Exception):
    """A handler raised: carries the error type and message as Lambda reports them."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class _Environments:
    """A pool of separately imported handler modules for one function."""

    def __init__(self, spec: FunctionSpec, size: int) -> None:
        self._spec = spec
        self._idle: queue.LifoQueue[Handler] = queue.LifoQueue()
        self._created = 0
        self._size = size
        self._lock = threading.Lock()

    def _new_environment(self) -> Handler:
        module_name, attribute = self._spec.handler.rsplit(".", 1)
        path = self._spec.code_dir / f"{module_name}.py"
        with self._lock:
            self._created += 1
            unique = f"_lambda_{self._spec.logical_id}_{self._created}"
        module_spec = importlib.util.spec_from_file_location(unique, path)
        if module_spec is None or module_spec.loader is None:
            raise FileNotFoundError(f"handler module {path} of {self._spec.logical_id}")
        module: ModuleType = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        handler: Handler = getattr(module, attribute)
        return handler

    def acquire(self) -> Handler:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            can_grow = self._created < self._size
        if can_grow:
            return self._new_environment()
        return self._idle.get()

    def release(self, handler: Handler) -> None:
        self._idle.put(handler)


class LambdaRuntime:
    """Registry of in-process functions, addressable by name, ARN or logical id."""

    def __init__(self, concurrency_per_function: int = 4) -> None:
        self._concurrency = concurrency_per_function
        self._specs: dict[str, FunctionSpec] = {}
        self._pools: dict[str, _Environments] = {}
        self._overrides: dict[str, Handler] = {}
        self.invocations: list[tuple[str, str]] = []  # (function name, outcome); never payloads

    def register(self, spec: FunctionSpec) -> None:
        self._specs[spec.name] = spec
        self._pools[spec.name] = _Environments(spec, self._concurrency)

    def register_handler(self, name: str, handler: Handler) -> None:
        """Register (or override) a function by name with a plain callable; used by tests."""
        self._overrides[name] = handler

    def warm(self) -> None:
        """Import every handler once, so a broken handler fails at start-up, not on first use."""
        for pool in self._pools.values():
            pool.release(pool.acquire())

    @property
    def specs(self) -> dict[str, FunctionSpec]:
        return dict(self._specs)

    def resolve_name(self, name_or_arn: str) -> str:
        """Map an ARN (with or without qualifier), a name or a logical id to a function name."""
        name = name_or_arn
        if name_or_arn.startswith("arn:"):
            name = name_or_arn.split(":")[6]
        if name in self._specs or name in self._overrides:
            return name
        for spec in self._specs.values():
            if spec.logical_id == name:
                return spec.name
        raise LookupError(f"no local function named {name_or_arn}")

    def invoke(self, name_or_arn: str, event: Any) -> Any:
        """Invoke synchronously; a handler's exception becomes a `FunctionError`.

        The event goes through JSON first, as on Lambda: the handler gets plain JSON data (a
        timestamp from an SDK response arrives as epoch seconds) and can never mutate the caller's.
        """
        event = json.loads(json.dumps(event, default=_epoch_seconds))
        name = self.resolve_name(name_or_arn)
        override = self._overrides.get(name)
        spec = self._specs.get(name)
        context = LambdaContext(
            function_name=name,
            invoked_function_arn=spec.arn if spec else name,
            memory_limit_in_mb=spec.memory_mb if spec else 128,
            timeout_s=spec.timeout_s if spec else 3,
            log_group_name=f"/aws/lambda/{name}",
        )
        if override is not None:
            return self._call(name, override, event, context)
        pool = self._pools[name]
        handler = pool.acquire()
        try:
            return self._call(name, handler, event, context)
        finally:
            pool.release(handler)

    def _call(self, name: str, handler: Handler, event: Any, context: LambdaContext) -> Any:
        try:
            result = handler(event, context)
        except Exception as exc:
            self.invocations.append((name, "error"))
            # The type and message only: our exceptions never carry identifiers (P2, P3).
            log.warning("function %s raised %s", name, type(exc).__name__)
            raise FunctionError(type(exc).__name__, str(exc)) from exc
        self.invocations.append((name, "ok"))
        return result


def _epoch_seconds(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON")


_active_runtime: LambdaRuntime | None = None


def _moto_invoke(
    backend: Any,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: dict[str, str],
) -> bytes:
    """Replacement for moto's simple Lambda backend `invoke`: dispatch to the in-process handler."""
    runtime = _active_runtime
    if runtime is None:
        raise RuntimeError("no local Lambda runtime is active")
    try:
        runtime.resolve_name(function_name)
    except LookupError:
        from moto.awslambda.exceptions import UnknownFunctionException

        raise UnknownFunctionException(function_name) from None  # 404 ResourceNotFoundException, as AWS
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    event = json.loads(body) if body else {}
    invocation_type = (headers or {}).get("X-Amz-Invocation-Type", "RequestResponse")
    if invocation_type == "Event":
        threading.Thread(target=_invoke_quietly, args=(runtime, function_name, event), daemon=True).start()
        return b""
    try:
        result = runtime.invoke(function_name, event)
    except FunctionError as error:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": error.error_type, "errorMessage": error.message}).encode()
    return json.dumps(result).encode()


def _invoke_quietly(runtime: LambdaRuntime, function_name: str, event: Any) -> None:
    with contextlib.suppress(FunctionError):  # logged by the runtime; async invocations report nothing
        runtime.invoke(function_name, event)


_saved_config: dict[str, Any] = {}


def install_moto_hook(runtime: LambdaRuntime) -> None:
    """Route moto's `lambda:Invoke` (Step Functions tasks included) to `runtime`.

    moto's configuration is process-wide, so what is changed here is put back by `uninstall_moto_hook`.
    """
    global _active_runtime
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config

    _saved_config.update(
        {
            "lambda": default_user_config.get("lambda"),
            "stepfunctions": default_user_config.get("stepfunctions"),
            "invoke": LambdaSimpleBackend.invoke,
        }
    )
    default_user_config["lambda"] = {"use_docker": False}
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    LambdaSimpleBackend.invoke = _moto_invoke  # type: ignore[method-assign,assignment]
    _active_runtime = runtime


def uninstall_moto_hook() -> None:
    global _active_runtime
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.config import default_user_config

    if not _saved_config:
        return
    default_user_config["lambda"] = _saved_config.pop("lambda")
    default_user_config["stepfunctions"] = _saved_config.pop("stepfunctions")
    LambdaSimpleBackend.invoke = _saved_config.pop("invoke")  # type: ignore[method-assign]
    _active_runtime = None
