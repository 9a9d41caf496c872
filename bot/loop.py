"""The loop every background worker runs: work while there is work, then sleep until woken."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def work_until_stopped(
    name: str,
    stop: threading.Event,
    wake: threading.Event,
    run_once: Callable[[], int],
    idle_wait: Callable[[], float],
) -> None:
    """Call `run_once` until `stop` is set. When it finds nothing to do, wait for `wake` (set by
    whoever queues work) or `idle_wait()` seconds; a failing pass is logged and retried."""
    while not stop.is_set():
        wake.clear()
        try:
            busy = run_once()
        except Exception:
            log.exception("%s: a pass failed; retrying shortly", name)
            busy = 0
        if not busy:
            wake.wait(idle_wait())
