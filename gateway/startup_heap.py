"""The objects built at start, kept out of the cyclic garbage collector's full passes.

A started gateway holds ~260,000 objects the collector tracks (the WSDL and XSD models, SQLAlchemy's
mappers and compiled statements, the routes, the PKI, the fonts): a full (generation 2) collection
walks them all, and on this project's 2-core machine that is 175–230 ms with the whole process
stopped — the event loop, the SOAP threads, every request in flight. Under load such passes come
every few seconds, and they were the half-load latency tail (BENCHMARKS.md, issue 7, fourth round).
Those objects live as long as the process, so after start they are collected once and then frozen
(`gc.freeze`): later full passes walk only what was made since. Cycles made at run time are still
collected as before; only the start's survivors are exempt, until `thaw` at shutdown (a test
process builds many applications: each one's objects must be collectable once it has stopped).
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def freeze_startup_heap() -> int:
    """Collect the start's garbage, then freeze what survives; how many objects were frozen."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info(
        "startup heap: %d objects frozen out of the collector's full passes (%.0f ms)",
        frozen,
        1000 * (time.perf_counter() - started),
    )
    return frozen


def thaw() -> None:
    """Give the frozen objects back to the collector (at shutdown)."""
    gc.unfreeze()
