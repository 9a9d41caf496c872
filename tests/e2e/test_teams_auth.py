"""Teams bearer tokens are checked off the event loop: forged tokens never stall the server,
and the signing keys are fetched once, with a timeout, however many tokens arrive."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from handlers.teams.auth import SigningKeys
from tests.conftest import MakeSettings, hard_call, teams_app
from tests.fakes.teams_connector import ISSUER, FakeTeamsConnector
from tests.helpers import wait_until
from tests.teams_harness import APP_ID, TeamsHarness

ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def forged(**claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": APP_ID, "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, ATTACKER, algorithm="RS256", headers={"kid": uuid.uuid4().hex})


def entra_token() -> str:
    tenant = str(uuid.uuid4())
    return forged(iss=f"https://login.microsoftonline.com/{tenant}/v2.0", tid=tenant)


def test_a_burst_of_forged_tokens_leaves_healthz_and_webhooks_fast(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector
) -> None:
    # The key endpoint answers only when the test lets it (or, should the app's event loop be
    # stuck waiting for it, 15 s on, so that the test can fail instead of hanging).
    fake_teams.state.keys_release = release = threading.Event()
    stuck = threading.Timer(15, release.set)
    stuck.start()
    app = teams_app(make_teams_settings(), fake_teams, sign=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        harness = TeamsHarness(client, app.state.services, fake_teams, sign=False)
        body = harness.activity("ana@example.com", "installationUpdate", action="add")
        tokens = [entra_token() if n % 2 else forged() for n in range(40)]

        def post(token: str) -> int:
            return client.post(
                "/api/messages", json=body, headers={"Authorization": f"Bearer {token}"}
            ).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = [pool.submit(post, token) for token in tokens]
            wait_until(lambda: fake_teams.state.key_fetches >= 1)  # the slow fetch is under way
            assert client.get("/healthz").status_code == 200
            assert harness.post_event(hard_call()).status_code == 202
            assert not release.is_set()  # both answered while the fetch was still held
            release.set()
            stuck.cancel()
            assert [answer.result() for answer in answers] == [401] * len(tokens)
    # Entra tokens were refused before any fetch; the unknown key ids caused one fetch in all.
    assert fake_teams.state.key_fetches == 1


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"aud": "another-app"}, "another app"),
        ({"iss": "https://sts.windows.net/x/"}, "another issuer"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"tid": "another-tenant"}, "another tenant"),
    ],
)
def test_tokens_for_someone_else_are_refused_without_any_key_fetch(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector, claims: dict[str, Any], why: str
) -> None:
    app = teams_app(make_teams_settings(teams_tenant_id="tenant-test"), fake_teams, sign=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post(
            "/api/messages",
            json={"type": "message", "text": "hi"},
            headers={"Authorization": f"Bearer {forged(**claims)}"},
        )
    assert response.status_code == 401 and why in response.json()["error"]
    assert fake_teams.state.key_fetches == 0


def test_key_fetches_are_single_flight_cached_and_bounded() -> None:
    calls: list[str] = []

    def fetch(url: str) -> dict[str, Any]:
        calls.append(url)
        time.sleep(0.2)
        return {"keys": []}

    keys = SigningKeys("http://keys.invalid/keys", fetch=fetch)

    async def burst() -> list[Any]:
        return list(await asyncio.gather(*(keys.key(f"kid-{n}") for n in range(30))))

    found = asyncio.run(burst())
    assert found == [None] * 30
    assert calls == ["http://keys.invalid/keys"]  # one fetch for thirty unknown key ids


def test_a_failing_key_endpoint_is_a_401_not_a_5xx(
    make_teams_settings: MakeSettings, fake_teams: FakeTeamsConnector
) -> None:
    settings = make_teams_settings()
    app = teams_app(settings, fake_teams, sign=True)
    with TestClient(app, raise_server_exceptions=False) as client:
        messenger = app.state.services.messenger
        messenger.endpoint.auth.keys.url = "http://127.0.0.1:9/keys"  # nothing listens there
        token = fake_teams.sign_activity(app_id=APP_ID, service_url=fake_teams.url)
        response = client.post(
            "/api/messages",
            json={"type": "message", "text": "hi"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 401
