"""The real app served by uvicorn on a free port in a thread, for tests that need a real HTTP
server (a browser, or the demo's simulated agents posting to it)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from starlette.applications import Starlette

from bot.app import create_app
from bot.config import Settings
from bot.container import Services
from handlers.sandbox.access import HEADER
from handlers.sandbox.call_simulator import CallSimulator
from handlers.sandbox.console import SandboxConsole
from handlers.sandbox.demo import serve_in_background


@dataclass
class LiveServer:
    app: Starlette
    url: str

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    @property
    def console(self) -> SandboxConsole:
        console: SandboxConsole = self.app.state.sandbox_console
        return console

    @property
    def console_headers(self) -> dict[str, str]:
        """What a script needs to use the console's API: this run's token."""
        return {HEADER: self.console.token}


@contextmanager
def live_server(settings: Settings, *, simulator: bool = False) -> Iterator[LiveServer]:
    """Serve the app; with `simulator`, plug a (stopped) call simulator into the console as
    `breather demo` does."""
    app = create_app(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # the OS picks a free port
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    live = LiveServer(app, url)
    if simulator:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        emails = [a.email for team in live.services.config.teams for a in team.agents]
        live.console.simulator = CallSimulator(
            url=f"{url}/webhooks/calls", secret=secret, emails=emails, rate=1, on_change=live.console.touch
        )
    server, thread = serve_in_background(app, sock)
    assert server.started, "the test server did not start"
    try:
        yield live
    finally:
        if live.console and live.console.simulator:
            live.console.simulator.close()
        server.should_exit = True
        thread.join(15)
