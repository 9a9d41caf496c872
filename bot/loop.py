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
            log_failure(log, f"{name}: a pass failed; retrying shortly", error)
            busy = 0
        if not busy:
            wake.wait(_idle_wait(name, idle_wait))


def _idle_wait(name: str, idle_wait: Callable[[], float]) -> float:
    """How long to sleep; the database being away for a moment (a restart, a failover) must not
    end the worker's thread, only make it look again a second later."""
    try:
        return idle_wait()
    except Exception as error:
        log_failure(log, f"{name}: cannot tell when work is due; looking again shortly", error)
        return 1.0


def log_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """A database away for a moment (a restart, a failover) is one warning line, not a traceback
    a second from every worker; anything else is a bug and keeps its traceback."""
    if unreachable(error):
        logger.warning("%s (the database is unreachable: %s)", what, type(error).__name__)
    else:
        logger.error("%s", what, exc_info=error)
