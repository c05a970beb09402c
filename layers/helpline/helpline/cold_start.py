"""The import phase of a function a caller waits on: the cyclic garbage collector paused until it ends.

Importing a contact-path handler creates a few hundred thousand objects (pydantic's schema machinery,
boto3's service models, our models), all of them kept for the life of the environment. The collector
would walk them again and again while they are being created, for nothing: in `bench/ingest.py` that
is 20 to 60 ms of a cold start. So importing this module (first among ours, in the handler) pauses it,
and `loaded()` (the handler's last line) turns it back on and freezes what was loaded out of its reach
(`gc.freeze`), so that later collections, during invocations, do not walk it either.

A handler imported by path in tests or by the local stack calls `loaded()` too, so the collector is
only ever paused while one is loading.
"""

from __future__ import annotations

import gc

gc.disable()


def loaded() -> None:
    """The function has loaded: collect from now on, but never what the import created."""
    gc.freeze()
    gc.enable()
