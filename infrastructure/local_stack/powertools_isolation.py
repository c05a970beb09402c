"""Keep Powertools' per-request router state per thread when handlers share one process.

Powertools' event handler keeps the current event and Lambda context on the `BaseRouter` class
(`BaseRouter.current_event = ...`), which is safe on Lambda, where one process serves one request at a
time. The local stack serves concurrent requests from threads of one process, so without this two
requests could read each other's event (another caller's claims, another body). This makes both
attributes context-local (a `ContextVar` each: per thread, and carried into `asyncio.to_thread`, which
Powertools' async middlewares use): class-level assignment goes through a data descriptor on the
metaclass, instance reads through a descriptor in the class.
"""

from __future__ import annotations

from abc import ABCMeta
from contextvars import ContextVar
from typing import Any

_ATTRIBUTES = ("current_event", "lambda_context")
_MISSING = object()


class _ContextLocalAttribute:
    def __init__(self, name: str) -> None:
        self._name = name
        self._value: ContextVar[Any] = ContextVar(f"powertools_router_{name}", default=_MISSING)

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        value = self._value.get()
        if value is _MISSING:
            raise AttributeError(self._name)
        return value

    def __set__(self, instance: object, value: Any) -> None:
        self._value.set(value)


def isolate_router_state() -> None:
    """Make `BaseRouter.current_event` and `.lambda_context` context-local (idempotent)."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

    if type(BaseRouter).__name__ == "_ContextLocalRouterMeta":
        return
    descriptors = {name: _ContextLocalAttribute(name) for name in _ATTRIBUTES}
    meta = ABCMeta("_ContextLocalRouterMeta", (type(BaseRouter),), dict(descriptors))
    for name, descriptor in descriptors.items():
        # Instance reads (`self.current_event`) find the descriptor in the class's own dict ...
        setattr(BaseRouter, name, descriptor)
    # ... and class-level writes (`BaseRouter.current_event = ...`) the metaclass's, once swapped in.
    BaseRouter.__class__ = meta  # type: ignore[method-assign]
