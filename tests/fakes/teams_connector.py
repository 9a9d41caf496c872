"""A fake Bot Connector (the Teams service URL) on a real HTTP port.

It records what a bot sends: new activities (`POST /v3/conversations/{id}/activities`),
updates (`PUT .../activities/{activity id}`) and deletions (`DELETE ...`), and answers member
look-ups (`GET /v3/conversations/{id}/members/{user id}`) from people added with `add_member`.
`fail_next(kind, status)` makes the next call of a kind answer 429 (with Retry-After), 5xx or
any 4xx with a Teams-shaped error body. Outbound calls must carry a bearer token; the token is
recorded so a test can check the bot authenticated.

It also serves the OpenID metadata and signing keys of a made-up Bot Framework, so a test can
sign inbound activities the way Microsoft does (`sign_activity`) and the SDK's real JWT
validation accepts them. Point Breather's TEAMS_SERVICE_URL at `server.url`. `reset()` forgets
calls, members, failures and deletions, and activity ids count from 1 again.
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.server import FakeServer

ISSUER = "https://api.botframework.test"
KEY_ID = "fake-bot-framework-key"


@dataclass
class ConnectorCall:
    kind: str  # send, update, delete, member
    conversation: str
    activity_id: str | None
    body: dict[str, Any]
    token: str | None
    at: float  # when received, by the server's clock (time.time() unless a test sets one)

    @property
    def card(self) -> dict[str, Any]:
        """The Adaptive Card this activity carries (the first one)."""
        for attachment in self.body.get("attachments") or []:
            if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                return dict(attachment["content"])
        raise AssertionError(f"activity has no Adaptive Card: {sorted(self.body)}")

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")


@dataclass
class _Failure:
    status: int
    retry_after: float | None
    code: str


@dataclass
class _State:
    calls: list[ConnectorCall] = field(default_factory=list)
    failures: dict[str, deque[_Failure]] = field(default_factory=lambda: defaultdict(deque))
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # Teams user id -> member
    deleted: set[str] = field(default_factory=set)
    # When set, the signing-key endpoint answers only once this is (a fetch held as long as a test likes).
    keys_release: threading.Event | None = None
    key_fetches: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: FakeTeamsConnector

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/.well-known/openidconfiguration"):
            self._json(200, {"issuer": ISSUER, "jwks_uri": self.server.url + "/v1/.well-known/keys"})
            return
        if path.endswith("/.well-known/keys"):
            with self.server._lock:
                self.server.state.key_fetches += 1
                self.server._lock.notify_all()
            release = self.server.state.keys_release
            if release is not None:
                release.wait(30)
            self._json(200, {"keys": [self.server.public_jwk]})
            return
        auth = self.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if auth.startswith("Bearer ") else None
        prefix = "/v3/conversations/"
        if not path.startswith(prefix):
            self._json(404, {"error": {"code": "NotFound", "message": path}})
            return
        segments = path[len(prefix) :].split("/")
        conversation, rest = segments[0], segments[1:]
        body = json.loads(raw) if raw else {}
        if rest[:1] == ["members"] and len(rest) == 2 and self.command == "GET":
            kind, activity_id = "member", rest[1]
        elif rest[:1] == ["activities"] and self.command == "POST":
            kind, activity_id = "send", None
        elif rest[:1] == ["activities"] and len(rest) == 2 and self.command == "PUT":
            kind, activity_id = "update", rest[1]
        elif rest[:1] == ["activities"] and len(rest) == 2 and self.command == "DELETE":
            kind, activity_id = "delete", rest[1]
        else:
            self._json(404, {"error": {"code": "NotFound", "message": path}})
            return
        self.server.record(ConnectorCall(kind, conversation, activity_id, body, token, self.server.clock()))
        if token is None:
            self._json(401, {"error": {"code": "Unauthorized", "message": "no bearer token"}})
            return
        failure = self.server.next_failure(kind)
        if failure is not None:
            headers = {"Retry-After": f"{failure.retry_after:g}"} if failure.retry_after is not None else {}
            self._json(failure.status, {"error": {"code": failure.code, "message": "fake"}}, headers)
            return
        status, answer = self.server.answer(kind, conversation, activity_id)
        self._json(status, answer)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)


@functools.cache
def _signing_key() -> rsa.RSAPrivateKey:
    """The made-up Bot Framework's key: one per test run (making an RSA key takes a while)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeTeamsConnector(FakeServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self._key = _signing_key()
        public = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        self.public_jwk = {**public, "kid": KEY_ID, "use": "sig", "alg": "RS256"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self.state = _State()
            self._ids = itertools.count(1)

    # --- test controls --------------------------------------------------------------------

    def add_member(self, user_id: str, *, aad: str, email: str, name: str, upn: str | None = None) -> None:
        self.state.members[user_id] = {
            "id": user_id,
            "aadObjectId": aad,
            "email": email,
            "userPrincipalName": upn or email,
            "name": name,
            "tenantId": "tenant-test",
        }

    def fail_next(
        self, kind: str, status: int = 429, *, times: int = 1, retry_after: float | None = None
    ) -> None:
        if status == 429 and retry_after is None:
            retry_after = 1
        code = {429: "TooManyRequests", 403: "BotNotInConversationRoster", 404: "NotFound"}.get(
            status, "ServiceError"
        )
        with self._lock:
            for _ in range(times):
                self.state.failures[kind].append(_Failure(status, retry_after, code))

    def calls(self, kind: str | None = None, conversation: str | None = None) -> list[ConnectorCall]:
        with self._lock:
            return [
                c
                for c in self.state.calls
                if (kind is None or c.kind == kind)
                and (conversation is None or c.conversation == conversation)
            ]

    def wait_for(
        self, kind: str, count: int = 1, timeout: float = 10.0, conversation: str | None = None
    ) -> list[ConnectorCall]:
        """The calls of `kind` (to `conversation`, when given) once there are `count` of them."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c
                    for c in self.state.calls
                    if c.kind == kind and (conversation is None or c.conversation == conversation)
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} {kind} call(s) within {timeout}s, got {len(found)}"
                    )
                self._lock.wait(remaining)

    def sign_activity(self, *, app_id: str, service_url: str, lifetime_s: int = 300) -> str:
        """A Bot Framework-style bearer token for an inbound activity, signed by this fake."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": app_id,
            "serviceurl": service_url,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
        }
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KEY_ID})

    # --- server side ----------------------------------------------------------------------

    def record(self, call: ConnectorCall) -> None:
        with self._lock:
            self.state.calls.append(call)
            self._lock.notify_all()

    def next_failure(self, kind: str) -> _Failure | None:
        with self._lock:
            queue = self.state.failures.get(kind)
            return queue.popleft() if queue else None

    def answer(self, kind: str, conversation: str, activity_id: str | None) -> tuple[int, dict[str, Any]]:
        if kind == "member":
            member = self.state.members.get(activity_id or "")
            if member is None:
                return 404, {"error": {"code": "MemberNotFoundInConversation", "message": "not a member"}}
            return 200, member
        if kind == "send":
            return 200, {"id": f"act-{next(self._ids)}"}
        if kind == "update":
            return 200, {"id": activity_id}
        with self._lock:
            if activity_id in self.state.deleted:
                return 404, {"error": {"code": "NotFound", "message": "activity not found"}}
            self.state.deleted.add(activity_id or "")
        return 200, {}
