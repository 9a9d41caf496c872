"""Hundreds of slow or stalled clients on loopback: bodies are read a few at a time and given
a time limit, so memory stays bounded, and /healthz and webhooks still answer promptly."""

from __future__ import annotations

import selectors
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from handlers.limits import BodyLimits
from tests.conftest import MakeSettings, hard_call
from tests.live import LiveServer, live_server

STALLED = 200
STARTED = 64 * 1024  # what each stalled client sends of its announced 1,000,000 bytes
TIME_LIMIT = 5.0  # seconds for a body, where a test checks what happens before it runs out


@pytest.fixture
def live(make_settings: MakeSettings) -> Iterator[LiveServer]:
    with live_server(make_settings(body_timeout_seconds=1.5)) as server:
        yield server


def stalled_client(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = (
        "POST /webhooks/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Content-Length: 1000000\r\n\r\n"
    )
    sock.sendall(head.encode() + b"x" * STARTED)
    return sock


def answered(clients: list[socket.socket]) -> list[socket.socket]:
    """The clients the server has answered (or closed) so far, without waiting."""
    with selectors.DefaultSelector() as selector:  # epoll: no FD_SETSIZE limit like select()
        for sock in clients:
            selector.register(sock, selectors.EVENT_READ)
        return [key.fileobj for key, _ in selector.select(timeout=0)]  # type: ignore[misc]


def test_stalled_bodies_hold_no_server_and_are_cut_off(live: LiveServer) -> None:
    # Long enough that, even on a busy machine, every stalled body is still being read when the
    # other requests are answered: they are answered *while* the stalled ones are held, not after.
    live.app.state.body_limits = limits = BodyLimits(TIME_LIMIT)
    clients = [stalled_client(live.url) for _ in range(STALLED)]
    try:
        with httpx.Client(base_url=live.url, timeout=TIME_LIMIT) as http:
            assert http.get("/healthz").status_code == 200
            webhook = http.post(
                "/webhooks/calls", content=b"{}", headers={"Content-Type": "application/json"}
            )
            assert webhook.status_code == 401  # answered: it is not stuck behind them
        assert answered(clients) == []  # while every stalled client is still held
        # What they sent is all that is held: no more than the budget, whatever they announced.
        assert limits.reading > 0 and limits.buffered <= min(STALLED * STARTED, limits.budget)
        # Each stalled client is answered 408 once the time limit is up, and its connection closed.
        deadline = time.monotonic() + TIME_LIMIT + 10
        for sock in clients[:20]:
            sock.settimeout(max(deadline - time.monotonic(), 0.1))
            answer = sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:40]
    finally:
        for sock in clients:
            sock.close()
    wait_until_idle(limits)
    with httpx.Client(base_url=live.url, timeout=5) as http:
        assert http.get("/healthz").status_code == 200


def test_past_the_byte_budget_a_body_is_503_and_nothing_piles_up(live: LiveServer) -> None:
    # The time limit leaves the bodies read first in the budget while the others arrive.
    live.app.state.body_limits = limits = BodyLimits(TIME_LIMIT, budget=10 * STARTED)
    clients = [stalled_client(live.url) for _ in range(30)]
    try:
        deadline = time.monotonic() + TIME_LIMIT
        while limits.buffered < 9 * STARTED and time.monotonic() < deadline:
            time.sleep(0.01)
        assert limits.buffered <= limits.budget
        refused = 0
        for sock in clients:
            sock.settimeout(TIME_LIMIT + 10)
            refused += sock.recv(4096).startswith(b"HTTP/1.1 503")
        assert refused >= 15  # the ones past the budget, at once; the others ran out of time
    finally:
        for sock in clients:
            sock.close()
    wait_until_idle(limits)
    assert limits.buffered == 0


def wait_until_idle(limits: BodyLimits) -> None:
    deadline = time.monotonic() + 10
    while limits.reading and time.monotonic() < deadline:
        time.sleep(0.05)
    assert limits.reading == 0


def test_a_body_that_trickles_in_past_the_limit_is_408(live: LiveServer) -> None:
    host, port = live.url.removeprefix("http://").split(":")
    limit = live.app.state.body_limits.body_timeout_s
    # Cut off once the limit is up, and not before (the socket's timeout bounds "once" widely).
    with socket.create_connection((host, int(port)), timeout=limit + 10) as sock:
        started = time.monotonic()  # before the server can have started counting
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408") and b"did not arrive" in answer
        assert time.monotonic() - started >= limit
    with httpx.Client(base_url=live.url, timeout=5) as http:
        assert http.post("/webhooks/calls", json=hard_call()).status_code == 401  # still serving


def test_clients_trickling_or_bloating_headers_are_cut_off(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handlers import server

    monkeypatch.setattr(server, "HEADER_TIMEOUT_S", 1.0)  # read as each connection is made
    host, port = live.url.removeprefix("http://").split(":")
    # Headers that never end: the connection is closed at the deadline (not before; and the
    # socket's timeout, well past the deadline, fails the test if it is never closed).
    started = time.monotonic()  # before connecting: the server counts from the connection
    with socket.create_connection((host, int(port)), timeout=server.HEADER_TIMEOUT_S + 10) as slow:
        slow.sendall(b"POST /webhooks/calls HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        assert slow.recv(4096) == b""  # closed by the server
        assert time.monotonic() - started >= server.HEADER_TIMEOUT_S
    # Headers larger than the cap are answered 400.
    with socket.create_connection((host, int(port)), timeout=10) as big:
        big.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (server.MAX_HEADER_BYTES * 2)
        )
        assert big.recv(4096).startswith(b"HTTP/1.1 400")
    with httpx.Client(base_url=live.url, timeout=5) as http:
        assert http.get("/healthz").status_code == 200
