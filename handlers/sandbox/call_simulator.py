"""The demo's stream of simulated calls, which the console's control panel starts and stops."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from bot.simulation import synthetic_calls
from handlers.telephony.simulator import run_simulation


class CallSimulator:
    """Posts signed synthetic `call.ended` events to the running server, as a phone system would.

    Each start runs in its own thread with its own stop flag, so a stop from the console takes
    effect at once and a later start never races the previous run.
    """

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        emails: Sequence[str],
        rate: float,
        calls: int | None = None,
        on_change: Callable[[], None] = lambda: None,
        events: Callable[[bool], Iterable[dict[str, Any]]] | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.emails = list(emails)
        self.rate = rate
        self.calls = calls
        self.on_change = on_change
        # What to send, given whether to open with a hard call (the demo adds compliments).
        self.events = events or (
            lambda first_hard: synthetic_calls(self.emails, self.calls, first_hard=first_hard)
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive() and not self._stop.is_set()

    def start(self, *, first_hard: bool = False) -> bool:
        """Returns False when it was already running."""
        with self._lock:
            if self.running:
                return False
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop, first_hard), name="breather-call-simulator", daemon=True
            )
            self._thread.start()
        self.on_change()
        return True

    def stop(self) -> bool:
        """Returns False when it was not running."""
        with self._lock:
            was_running = self.running
            self._stop.set()
        if was_running:
            self.on_change()
        return was_running

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, stop: threading.Event, first_hard: bool) -> None:
        try:
            run_simulation(
                self.url,
                self.secret,
                self.events(first_hard),
                rate=self.rate,
                stop=stop,
            )
        finally:
            # A run that ends by itself (--calls reached) must show as stopped in the console.
            stop.set()
            self.on_change()
