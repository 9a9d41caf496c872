"""The loop every background worker runs: work while there is work, then sleep until woken."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from storage.db import unreachable

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
        except Exception as error:
            if unreachable(error):  # a restart or failover: one line, not a traceback a second
                log.warning(
                    "%s: the database is unreachable (%s); retrying shortly", name, type(error).__name__
                )
            else:
                log.exception("%s: a pass failed; retrying shortly", name)
            busy = 0
        if not busy:
            wake.wait(_idle_wait(name, idle_wait))


def _idle_wait(name: str, idle_wait: Callable[[], float]) -> float:
    """How long to sleep; the database being away for a moment (a restart, a failover) must not
    end the worker's thread, only make it look again a second later."""
    try:
        return idle_wait()
    except Exception as error:
        if unreachable(error):
            log.warning(
                "%s: cannot tell when work is due (%s); looking again shortly", name, type(error).__name__
            )
        else:
            log.exception("%s: cannot tell when work is due; looking again shortly", name)
        return 1.0
