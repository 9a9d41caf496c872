"""Fake phone-system REST APIs (Twilio TaskRouter, Aircall, Dialpad) on real HTTP ports.

Each server keeps its agents' statuses, so reads reflect writes, and a test can change a
status "by hand" (`set_activity`, `set_status`, `set_dnd`) to play an agent who changed it
themselves. Every request is recorded; `fail_next` makes the next requests of one HTTP
method answer 429 (with Retry-After) or 5xx. Credentials are checked like the real APIs do:
wrong ones get 401. Point the client at `server.url` (TWILIO_API_URL, AIRCALL_API_URL,
DIALPAD_API_URL). `reset()` forgets requests, failures and every agent added.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.server import FakeServer

Answer = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, headers


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any]
    headers: dict[str, str]  # lower-case names
    at: float  # when received, by the server's clock (time.time() unless a test sets one)


@dataclass
class _Failure:
    status: int
    retry_after: float | None


@dataclass
class _State:
    requests: list[Recorded] = field(default_factory=list)
    failures: dict[str, deque[_Failure]] = field(default_factory=lambda: defaultdict(deque))
    latency_s: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    server: FakeProviderApi

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        content_type = self.headers.get("Content-Type", "")
        body = json.loads(raw) if "json" in content_type and raw else dict(parse_qsl(raw.decode()))
        request = Recorded(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            body=body if isinstance(body, dict) else {"_": body},
            headers={k.lower(): v for k, v in self.headers.items()},
            at=self.server.clock(),
        )
        status, answer, headers = self.server.dispatch(request)
        data = b"" if status == 204 else json.dumps(answer).encode()  # 204 has no body
        # A client that timed out has gone away: that is the point of the test, not an error.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = _serve


class FakeProviderApi(FakeServer):
    prefix = ""  # the path the API lives under (Dialpad: /api)

    def __init__(self) -> None:
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.state = _State()

    # --- test controls ----------------------------------------------------------------

    def fail_next(
        self, method: str, status: int = 500, *, times: int = 1, retry_after: float | None = None
    ) -> None:
        with self._lock:
            for _ in range(times):
                self.state.failures[method.upper()].append(_Failure(status, retry_after))

    def requests(self, method: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.state.requests if method is None or r.method == method.upper()]

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests() if r.method in ("POST", "PUT", "PATCH")]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [r for r in self.state.requests if r.method == method.upper()]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} {method} request(s) within {timeout}s, got {len(found)}"
                    )
                self._lock.wait(remaining)

    # --- server side --------------------------------------------------------------------

    def dispatch(self, request: Recorded) -> Answer:
        with self._lock:
            self.state.requests.append(request)
            self._lock.notify_all()
            queue = self.state.failures.get(request.method)
            failure = queue.popleft() if queue else None
        if self.state.latency_s:
            time.sleep(self.state.latency_s)
        if failure is not None:
            headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
            return failure.status, {"message": "injected failure", "status": failure.status}, headers
        if not self.authorized(request.headers.get("authorization", "")):
            return 401, {"message": "Authentication required", "status": 401}, {}
        path = request.path.removeprefix(self.prefix)
        with self._lock:
            return self.answer(request.method, path, request)

    def authorized(self, header: str) -> bool:
        raise NotImplementedError

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        raise NotImplementedError


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _not_found() -> Answer:
    return 404, {"message": "The requested resource was not found", "status": 404}, {}


class FakeTwilio(FakeProviderApi):
    """TaskRouter: Activities of one Workspace, and Workers with an activity and an ETag."""

    ACTIVITIES = {  # sid -> (friendly name, available)
        "WA00000000000000000000000000000001": ("Available", True),
        "WA00000000000000000000000000000002": ("Offline", False),
        "WA00000000000000000000000000000003": ("Break", False),
        "WA00000000000000000000000000000004": ("Lunch", False),
    }

    def __init__(self, *, account_sid: str, auth_token: str, workspace_sid: str) -> None:
        super().__init__()
        self.account_sid, self.auth_token, self.workspace_sid = account_sid, auth_token, workspace_sid

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.workers: dict[str, dict[str, Any]] = {}
            self._versions = itertools.count(1)

    def sid_of(self, name: str) -> str:
        return next(sid for sid, (friendly, _) in self.ACTIVITIES.items() if friendly == name)

    def add_worker(self, sid: str, activity: str = "Available") -> None:
        with self._lock:
            self.workers[sid] = {"activity_sid": self.sid_of(activity), "version": next(self._versions)}

    def set_activity(self, sid: str, activity: str) -> None:
        """The agent changes their own activity (in Flex, say)."""
        with self._lock:
            self.workers[sid] = {"activity_sid": self.sid_of(activity), "version": next(self._versions)}

    def activity_of(self, sid: str) -> str:
        with self._lock:
            return self.ACTIVITIES[self.workers[sid]["activity_sid"]][0]

    def authorized(self, header: str) -> bool:
        return header == _basic(self.account_sid, self.auth_token)

    def _worker_json(self, sid: str) -> Answer:
        worker = self.workers[sid]
        name, available = self.ACTIVITIES[worker["activity_sid"]]
        body = {
            "sid": sid,
            "workspace_sid": self.workspace_sid,
            "activity_sid": worker["activity_sid"],
            "activity_name": name,
            "available": available,
        }
        return 200, body, {"ETag": str(worker["version"])}

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        workspace = f"/v1/Workspaces/{self.workspace_sid}"
        if method == "GET" and path == f"{workspace}/Activities":
            wanted = request.query.get("FriendlyName")
            activities = [
                {
                    "sid": sid,
                    "friendly_name": name,
                    "available": available,
                    "workspace_sid": self.workspace_sid,
                }
                for sid, (name, available) in self.ACTIVITIES.items()
                if wanted is None or name == wanted
            ]
            return 200, {"activities": activities, "meta": {"page": 0, "next_page_url": None}}, {}
        if not path.startswith(f"{workspace}/Workers/"):
            return _not_found()
        sid = path.rsplit("/", 1)[1]
        if sid not in self.workers:
            return _not_found()
        if method == "GET":
            return self._worker_json(sid)
        if method == "POST":
            activity = request.body.get("ActivitySid")
            if activity not in self.ACTIVITIES:
                return 400, {"code": 20001, "message": "Invalid ActivitySid", "status": 400}, {}
            expected = request.headers.get("if-match")
            if expected is not None and expected != str(self.workers[sid]["version"]):
                return 412, {"code": 20412, "message": "Precondition failed", "status": 412}, {}
            self.workers[sid] = {"activity_sid": activity, "version": next(self._versions)}
            return self._worker_json(sid)
        return 405, {"message": "Method not allowed", "status": 405}, {}


class FakeAircall(FakeProviderApi):
    """Aircall Public API: users with an availability_status."""

    STATUSES = ("available", "custom", "unavailable")

    def __init__(self, *, api_id: str, api_token: str) -> None:
        super().__init__()
        self.api_id, self.api_token = api_id, api_token

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.users: dict[str, str] = {}

    def add_user(self, user_id: str, status: str = "available") -> None:
        with self._lock:
            self.users[user_id] = status

    def set_status(self, user_id: str, status: str) -> None:
        """The agent changes their own availability (in the Aircall app)."""
        self.add_user(user_id, status)

    def status_of(self, user_id: str) -> str:
        with self._lock:
            return self.users[user_id]

    def authorized(self, header: str) -> bool:
        return header == _basic(self.api_id, self.api_token)

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        user_id = path.removeprefix("/v1/users/")
        if not path.startswith("/v1/users/") or user_id not in self.users:
            return _not_found()
        if method == "PUT":
            status = request.body.get("availability_status")
            if status not in self.STATUSES:
                return 400, {"error": "Invalid availability_status", "troubleshoot": "..."}, {}
            self.users[user_id] = status
        elif method != "GET":
            return 405, {"error": "Method not allowed"}, {}
        user = {"id": int(user_id), "availability_status": self.users[user_id], "available": True}
        return 200, {"user": user}, {}


class FakeDialpad(FakeProviderApi):
    """Dialpad API v2: users with a do-not-disturb flag, toggled with PATCH .../togglednd."""

    prefix = "/api"

    def __init__(self, *, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.users: dict[str, bool] = {}

    def add_user(self, user_id: str, dnd: bool = False) -> None:
        with self._lock:
            self.users[user_id] = dnd

    def set_dnd(self, user_id: str, dnd: bool) -> None:
        """The agent toggles do-not-disturb themselves."""
        self.add_user(user_id, dnd)

    def dnd_of(self, user_id: str) -> bool:
        with self._lock:
            return self.users[user_id]

    def authorized(self, header: str) -> bool:
        return header == f"Bearer {self.api_key}"

    def answer(self, method: str, path: str, request: Recorded) -> Answer:
        if not path.startswith("/v2/users/"):
            return _not_found()
        rest = path.removeprefix("/v2/users/")
        user_id, _, action = rest.partition("/")
        if user_id not in self.users:
            return _not_found()
        if method == "PATCH" and action == "togglednd":
            flag = request.body.get("do_not_disturb")
            if not isinstance(flag, bool):
                return 400, {"error": {"message": "do_not_disturb must be a boolean"}}, {}
            self.users[user_id] = flag
        elif not (method == "GET" and action == ""):
            return 405, {"error": {"message": "Method not allowed"}}, {}
        return 200, {"id": user_id, "do_not_disturb": self.users[user_id], "state": "active"}, {}
