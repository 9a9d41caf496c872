"""What every fake API server shares: a real HTTP port on 127.0.0.1, served from a daemon
thread, that stops at once and can be reset to the state it was built in.

The fixtures in tests/conftest.py start one server of each kind per test session and call
`reset()` before every test: the test sees a fresh server (no recorded calls, no injected
failures, counters from 1) without paying for a new port, thread and shutdown each time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

# How often the serving thread looks for a stop request. socketserver's default (0.5 s) made
# every stop() wait about half a second; a fake that is mostly idle pays next to nothing for this.
POLL_S = 0.02


class FakeServer(ThreadingHTTPServer):
    daemon_threads = True
    # Connections waiting to be accepted. socketserver's 5 overflowed when a burst of clients
    # connected at once (slack_sdk opens a connection per call): the kernel dropped their SYNs
    # and each client stalled for its 1 s retransmit, which a real API never does.
    request_queue_size = 128

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None
        self.reset()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self.serve_forever, args=(POLL_S,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def reset(self) -> None:
        """Forget everything a test did: back to the state the server was built in. Subclasses
        extend this with their own state."""
        with self._lock:
            # What stamps each recorded request: a test on a clock it moves on sets its own.
            self.clock: Callable[[], float] = time.time
