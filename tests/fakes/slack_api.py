"""A fake Slack Web API on a real HTTP port: records every call and can answer 429 or 500,
either as scripted (`fail_next`) or as a rate limit (`limit_rate`: at most N calls to a method
in any one second, 429 with Retry-After beyond that, the way Slack limits a workspace), or to
every call for a while (`storm`). Posted messages are kept per channel with their metadata, and
`conversations.history` reads them back (newest first, `oldest`, `include_all_metadata`, a cursor).

Point `SLACK_API_URL` (Settings.slack_api_url) at `server.url`. Nothing is patched: the real
slack_sdk WebClient talks HTTP to this server. `reset()` forgets calls, users, failures and
limits (the session-wide server is reset before every test).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.server import FakeServer


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    token: str | None
    at: float  # when received, by the server's clock (time.time() unless a test sets one)
    status: int = 200  # the HTTP status the fake answered
    answer: dict[str, Any] | None = None  # what the fake answered (set just before it is sent)


@dataclass
class Failure:
    status: int
    retry_after: float | None
    error: str


@dataclass
class FakeSlackState:
    calls: list[ApiCall] = field(default_factory=list)
    failures: dict[str, deque[Failure]] = field(default_factory=lambda: defaultdict(deque))
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> user object
    uploads: dict[str, bytes] = field(default_factory=dict)
    latency_s: float = 0.0
    limits: dict[str, int] = field(default_factory=dict)  # method -> calls allowed per second
    accepted_at: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    history: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    storm_until: float = 0.0  # time.monotonic() until which every call fails
    storm_statuses: tuple[int, ...] = ()
    storm_calls: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: FakeSlack

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path.startswith("/upload/"):
            self.server.state.uploads[self.path.rsplit("/", 1)[1]] = raw
            self._send(200, b"OK - 1", "text/plain")
            return
        path, _, query = self.path.partition("?")
        method = path.rsplit("/", 1)[-1]
        content_type = self.headers.get("Content-Type", "")
        if "json" in content_type:
            params = json.loads(raw or b"{}")
        else:
            params = dict(parse_qsl(raw.decode() or query))
            for key in ("blocks", "view", "files", "metadata"):
                if isinstance(params.get(key), str):
                    with contextlib.suppress(ValueError):
                        params[key] = json.loads(params[key])
        auth = self.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if auth.startswith("Bearer ") else params.get("token")
        call = ApiCall(method, params, token, self.server.clock())
        failure = self.server.in_storm() or self.server.next_failure(method) or self.server.over_limit(method)
        if failure is not None:
            call.status = failure.status
        self.server.record(call)
        # What Slack does happens before the answer travels back: a client that dies while
        # waiting has still posted its message.
        status, body = self.server.answer(method, params) if failure is None else (0, {})
        if self.server.state.latency_s:
            time.sleep(self.server.state.latency_s)
        if failure is not None:
            headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
            self._send(
                failure.status,
                json.dumps({"ok": False, "error": failure.error}).encode(),
                "application/json",
                headers,
            )
            return
        call.answer = body
        self._send(status, json.dumps(body).encode(), "application/json")

    do_GET = do_POST

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class FakeSlack(FakeServer):
    def __init__(self) -> None:
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.state = FakeSlackState()
            self._ts = itertools.count(1)

    # --- test controls ----------------------------------------------------------------

    def add_user(self, user_id: str, email: str, tz: str = "Europe/Bucharest", locale: str = "en-US") -> None:
        self.state.users[user_id] = {"id": user_id, "tz": tz, "locale": locale, "profile": {"email": email}}

    def set_status(self, user_id: str, emoji: str, expiration: float = 0) -> None:
        """The person's status, as users.profile.set would leave it (expiration: Unix time, 0 none)."""
        profile = self.state.users[user_id]["profile"]
        profile.update(status_text="", status_emoji=emoji, status_expiration=int(expiration))

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        times: int = 1,
        retry_after: float | None = None,
        error: str | None = None,
    ) -> None:
        default_error = "ratelimited" if status == 429 else "internal_error"
        if status == 429 and retry_after is None:
            retry_after = 1
        with self._lock:
            for _ in range(times):
                self.state.failures[method].append(Failure(status, retry_after, error or default_error))

    def storm(self, seconds: float, statuses: tuple[int, ...] = (429, 500)) -> None:
        """For the next `seconds`, answer every call with these statuses in turn (429s say
        Retry-After: 1), the way a platform in trouble does."""
        with self._lock:
            self.state.storm_until = time.monotonic() + seconds
            self.state.storm_statuses = statuses

    def in_storm(self) -> Failure | None:
        with self._lock:
            if time.monotonic() >= self.state.storm_until:
                return None
            status = self.state.storm_statuses[self.state.storm_calls % len(self.state.storm_statuses)]
            self.state.storm_calls += 1
        return Failure(
            status, 1.0 if status == 429 else None, "ratelimited" if status == 429 else "internal_error"
        )

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """What the channel holds, oldest first (as `conversations.history` would show it)."""
        with self._lock:
            return list(self.state.history[channel])

    def limit_rate(self, method: str, per_second: int) -> None:
        """From now on, answer 429 to calls of `method` beyond `per_second` in any second."""
        with self._lock:
            self.state.limits[method] = per_second

    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._lock:
            return [c for c in self.state.calls if method is None or c.method == method]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[ApiCall], bool] | None = None,
    ) -> list[ApiCall]:
        """Block until `count` calls of `method` (those `where` accepts, if given) were made."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self.state.calls if c.method == method and (where is None or where(c))]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} {method} call(s) within {timeout}s, got {len(found)}"
                    )
                self._lock.wait(remaining)

    # --- server side --------------------------------------------------------------------

    def record(self, call: ApiCall) -> None:
        with self._lock:
            self.state.calls.append(call)
            self._lock.notify_all()

    def next_failure(self, method: str) -> Failure | None:
        with self._lock:
            queue = self.state.failures.get(method)
            return queue.popleft() if queue else None

    def over_limit(self, method: str) -> Failure | None:
        """A sliding one-second window per method; Retry-After in whole seconds, as Slack sends."""
        with self._lock:
            allowed = self.state.limits.get(method)
            if allowed is None:
                return None
            now = time.monotonic()
            window = self.state.accepted_at[method]
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) < allowed:
                window.append(now)
                return None
            return Failure(429, float(max(math.ceil(window[0] + 1.0 - now), 1)), "ratelimited")

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "auth.test":
            return 200, {
                "ok": True,
                "user_id": "U0BREATHER",
                "bot_id": "B0BREATHER",
                "team_id": "T0TEST",
                "team": "Test",
                "url": "https://test.slack.com/",
            }
        if method == "users.lookupByEmail":
            for user in self.state.users.values():
                if user["profile"]["email"] == params.get("email"):
                    return 200, {"ok": True, "user": user}
            return 200, {"ok": False, "error": "users_not_found"}
        if method == "users.info":
            found = self.state.users.get(str(params.get("user")))
            if found is None:
                return 200, {"ok": False, "error": "user_not_found"}
            # As Slack: the locale only for a caller who asks for it.
            wants_locale = str(params.get("include_locale", "")).lower() in ("1", "true")
            user = {k: v for k, v in found.items() if k != "locale" or wants_locale}
            return 200, {"ok": True, "user": user}
        if method == "users.list":  # pages of members; the cursor is the next member's index
            start = int(str(params.get("cursor") or "0"))
            size = min(int(params.get("limit") or 100), 1000)
            members = list(self.state.users.values())
            page = members[start : start + size]
            following = str(start + size) if start + size < len(members) else ""
            return 200, {"ok": True, "members": page, "response_metadata": {"next_cursor": following}}
        if method == "conversations.open":
            return 200, {"ok": True, "channel": {"id": "D" + str(params.get("users", "")).lstrip("UW")}}
        if method == "conversations.history":
            return 200, self._history(params)
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"{int(time.time())}.{next(self._ts):06d}"
            if method == "chat.postMessage":
                self._keep(str(params.get("channel")), ts, params)
            return 200, {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text")},
            }
        if method == "chat.postEphemeral":
            return 200, {"ok": True, "message_ts": f"{int(time.time())}.{next(self._ts):06d}"}
        if method in ("views.open", "views.publish", "views.update"):
            return 200, {"ok": True, "view": {"id": f"V{next(self._ts)}"}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            base = self.url.removesuffix("api/")
            return 200, {"ok": True, "upload_url": f"{base}upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            return 200, {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        return 200, {"ok": True}

    def _keep(self, channel: str, ts: str, params: dict[str, Any]) -> None:
        kept: dict[str, Any] = {
            "type": "message",
            "ts": ts,
            "text": params.get("text"),
            "bot_id": "B0BREATHER",
        }
        if params.get("metadata"):
            kept["metadata"] = params["metadata"]
        with self._lock:
            self.state.history[channel].append(kept)

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        start = int(params.get("cursor") or 0)
        with self._lock:
            kept = [
                m for m in reversed(self.state.history[str(params.get("channel"))]) if float(m["ts"]) > oldest
            ]
        page = kept[start : start + limit]
        if str(params.get("include_all_metadata")).lower() not in ("true", "1"):
            page = [{k: v for k, v in m.items() if k != "metadata"} for m in page]
        more = start + limit < len(kept)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }
