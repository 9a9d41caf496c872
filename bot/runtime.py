"""The background threads one `serve` process runs: events, outbox, breaks, and (when leading) jobs;
and, once at start, the loading of the chart library."""

from __future__ import annotations

import logging
import threading

from bot.container import Services
from bot.digests import chart

log = logging.getLogger(__name__)


class Runtime:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for name, target in (
            ("breather-events", self.services.processor.run_forever),
            ("breather-outbox", self.services.worker.run_forever),
            ("breather-breaks", self.services.break_worker.run_forever),
            ("breather-scheduler", self.services.scheduler.run_forever),
        ):
            thread = threading.Thread(target=target, args=(self.stop_event,), name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        # Not joined on stop: an import cannot be interrupted, and it ends by itself.
        threading.Thread(target=_preload_charts, name="breather-charts", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> None:
        self.services.home.finish_redraws()  # they queue messages: before the outbox stops
        self.stop_event.set()
        self.services.events_wake.set()
        self.services.outbox.wake.set()
        self.services.intake.writer.stop()
        self.services.breaks_wake.set()
        for thread in self.threads:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("%s did not stop within %.0f s", thread.name, timeout)
        self.threads.clear()


def _preload_charts() -> None:
    try:
        chart.preload()
    except Exception:  # the chart is drawn (and a failure reported) when it is asked for
        log.exception("matplotlib could not be loaded ahead of the first chart")
