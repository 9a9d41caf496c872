"""Property-based tests of every endpoint's bad-input handling (issue 20, item 2).

Hypothesis generates bodies, signed as each sender signs and unsigned: arbitrary JSON (NaN,
huge numbers, deep nesting, odd text), realistic events with one field replaced by such a
value, and raw bytes. The properties, for every endpoint: never a 5xx, no traceback in the
log, nothing stored for a refused body, and a valid event afterwards still works. Seeded
(`derandomize`) and bounded (`max_examples`), so the suite stays fast and every run the same.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select
from twilio.request_validator import RequestValidator

from handlers.sandbox.interactions import signed_headers
from handlers.telephony.webex import sign as webex_sign
from handlers.telephony.zendesk import sign as zendesk_sign
from handlers.telephony.zoom import sign as zoom_sign
from storage.db import session_scope
from storage.models import InboundEvent
from tests.conftest import (
    AIRCALL_TOKEN,
    CONNECT_SECRET,
    DIALPAD_SECRET,
    FIXTURES,
    GENESYS_SECRET,
    SIGNING_SECRET,
    TWILIO_TOKEN,
    WEBEX_SECRET,
    ZENDESK_SECRET,
    ZOOM_SECRET,
    Harness,
    MakeSettings,
    hard_call,
)
from tests.handlers.test_connect import READ as CONNECT_READS
from tests.handlers.test_webex import READ as WEBEX_READS
from tests.handlers.test_zoom import READ as ZOOM_READS
from tests.teams_harness import TeamsHarness

BOUNDED = settings(
    max_examples=25,
    derandomize=True,  # the same examples every run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**30, max_value=10**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "\ud800", "\x00", "1e999"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
deep = st.integers(min_value=50, max_value=3000).map(lambda n: "[" * n + "]" * n)


def dumps(value: Any) -> bytes:
    # Python writes NaN/Infinity and keeps lone surrogates as escapes: both reach the server.
    return json.dumps(value).encode()


def mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(st.sampled_from(sorted(base)), json_values).map(lambda kv: {**base, kv[0]: kv[1]})


def bodies(base: Callable[[], dict[str, Any]]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        json_values.map(dumps),
        mutated(base()).map(dumps),
        deep.map(str.encode),
        st.binary(max_size=200),
    )


def stored(harness: Harness) -> int:
    with session_scope(harness.services.engine) as session:
        return int(session.exec(select(func.count()).select_from(InboundEvent)).one())


def check(harness: Harness, response: Any, before: int) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:200])
    if response.status_code >= 400:
        assert response.json()["error"]
        assert stored(harness) == before  # nothing stored for a refused body


def still_works(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    good = harness.post_event(hard_call(event_id=f"after-{time.monotonic_ns()}"))
    assert good.status_code == 202 and good.json()["status"] == "accepted"
    assert "Traceback" not in caplog.text


def _fixture(provider: str, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / provider / f"{name}.json").read_text())
    return data


@pytest.mark.parametrize("signed", [True, False])
def test_generic_webhook(shared_harness: Harness, caplog: pytest.LogCaptureFixture, signed: bool) -> None:
    @BOUNDED
    @given(body=bodies(hard_call))
    def run(body: bytes) -> None:
        before = stored(shared_harness)
        if signed:
            response = shared_harness.post_event(body)
        else:
            headers = {"Content-Type": "application/json"}
            response = shared_harness.client.post("/webhooks/calls", content=body, headers=headers)
        check(shared_harness, response, before)

    run()
    still_works(shared_harness, caplog)


def test_aircall_webhook(shared_harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    @BOUNDED
    @given(body=bodies(lambda: {**_fixture("aircall", "call_ended"), "token": AIRCALL_TOKEN}))
    def run(body: bytes) -> None:
        before = stored(shared_harness)
        headers = {"Content-Type": "application/json"}
        check(
            shared_harness,
            shared_harness.client.post("/webhooks/aircall", content=body, headers=headers),
            before,
        )

    run()
    still_works(shared_harness, caplog)


def test_zendesk_webhook(shared_harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    @BOUNDED
    @given(body=bodies(lambda: _fixture("zendesk", "satisfaction_good")))
    def run(body: bytes) -> None:
        before = stored(shared_harness)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        headers = {
            "Content-Type": "application/json",
            "X-Zendesk-Webhook-Signature": zendesk_sign(ZENDESK_SECRET, body, stamp),
            "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        }
        check(
            shared_harness,
            shared_harness.client.post("/webhooks/zendesk", content=body, headers=headers),
            before,
        )

    run()
    still_works(shared_harness, caplog)


def test_twilio_webhook(shared_harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    base = {k: str(v) for k, v in _fixture("twilio", "task_wrapup").items()}
    texts = st.text(max_size=60) | json_values.map(lambda v: json.dumps(v)) | deep

    @BOUNDED
    @given(field=st.sampled_from(sorted(base)), value=texts)
    def run(field: str, value: str) -> None:
        before = stored(shared_harness)
        params = {**base, field: value}
        url = "https://breather.test/webhooks/twilio"
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, params),
        }
        response = shared_harness.client.post("/webhooks/twilio", content=urlencode(params), headers=headers)
        check(shared_harness, response, before)

    run()
    still_works(shared_harness, caplog)


def test_dialpad_webhook(shared_harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    base = _fixture("dialpad", "hangup")

    @BOUNDED
    @given(event=mutated(base))
    def run(event: dict[str, Any]) -> None:
        before = stored(shared_harness)
        try:
            token = jwt.encode({**event, "iat": int(time.time())}, DIALPAD_SECRET, algorithm="HS256")
        except (TypeError, ValueError, OverflowError):
            return  # not encodable as a JWT at all: nothing a sender could send
        headers = {"Content-Type": "application/jwt"}
        check(
            shared_harness,
            shared_harness.client.post("/webhooks/dialpad", content=token, headers=headers),
            before,
        )

    run()
    still_works(shared_harness, caplog)


def test_slack_events(shared_harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    interaction = {"type": "block_actions", "user": {"id": "U0ANA"}, "actions": [{"action_id": "checkin.ok"}]}
    as_form = st.one_of(json_values.map(json.dumps), mutated(interaction).map(json.dumps), deep).map(
        lambda payload: ("application/x-www-form-urlencoded", urlencode({"payload": payload}))
    )
    as_json = bodies(lambda: {"type": "event_callback", "event": {"type": "app_home_opened"}}).map(
        lambda body: ("application/json", body.decode("utf-8", "replace"))
    )

    @BOUNDED
    @given(sent=st.one_of(as_form, as_json))
    def run(sent: tuple[str, str]) -> None:
        content_type, body = sent
        headers = signed_headers(SIGNING_SECRET, body, content_type)
        response = shared_harness.client.post("/slack/events", content=body.encode(), headers=headers)
        assert response.status_code < 500, (response.status_code, response.text[:200])

    run()
    still_works(shared_harness, caplog)


def test_teams_messages(shared_teams_harness: TeamsHarness, caplog: pytest.LogCaptureFixture) -> None:
    base = shared_teams_harness.activity("ana@example.com", "message", text="hello")

    @BOUNDED
    @given(body=bodies(lambda: base))
    def run(body: bytes) -> None:
        response = shared_teams_harness.post(body)
        assert response.status_code < 500, (response.status_code, response.text[:200])

    run()
    assert "Traceback" not in caplog.text
    assert shared_teams_harness.install("ana@example.com").status_code == 200  # still works


def test_sandbox_api(make_settings: MakeSettings, caplog: pytest.LogCaptureFixture) -> None:
    from bot.app import create_app
    from tests.e2e.test_console import console_client

    app = create_app(make_settings(messenger="sandbox", slack_bot_token=None, slack_signing_secret=None))
    paths = ["click", "home", "modal/submit", "modal/close", "command", "control"]
    base = {"as": "lead:radu@example.com", "ts": "1.0", "action_id": "x", "text": "/breather help"}

    with console_client(app) as client:

        @BOUNDED
        @given(path=st.sampled_from(paths), body=bodies(lambda: base))
        def run(path: str, body: bytes) -> None:
            headers = {"Content-Type": "application/json"}
            response = client.post(f"/sandbox/api/{path}", content=body, headers=headers)
            assert response.status_code < 500, (path, response.status_code, response.text[:200])
            if response.status_code >= 400:
                assert response.json()["error"]

        run()
        assert client.get("/sandbox/api/workspace").status_code == 200  # still works
    assert "Traceback" not in caplog.text


def test_every_webhook_path_unsigned(shared_harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Whatever phone systems are configured, no body sent to any webhook is a 5xx."""
    paths = sorted(
        route.path
        for route in shared_harness.client.app.routes  # type: ignore[attr-defined]
        if getattr(route, "path", "").startswith("/webhooks/")
    )
    media = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"])

    @BOUNDED
    @given(path=st.sampled_from(paths), body=bodies(hard_call), content_type=media)
    def run(path: str, body: bytes, content_type: str) -> None:
        before = stored(shared_harness)
        response = shared_harness.client.post(path, content=body, headers={"Content-Type": content_type})
        check(shared_harness, response, before)

    run()
    still_works(shared_harness, caplog)


# --- the contact-centre platforms (Genesys Cloud, Amazon Connect, Zoom, Webex) -----------------
#
# Their adapters read fields nested inside an envelope (`detail.eventBody`, `payload.object`,
# `data`). With 25 examples, replacing any key of a whole body would rarely reach one of them,
# so most generated bodies are a real event (under a new natural key, so that it is stored, not
# answered as a duplicate) with one to three of the fields its adapter reads (docs/providers/
# conformance.md) replaced, by arbitrary JSON or by a value of a class that broke something
# before; the rest replace any key of an object the adapter reads, or are no event at all.

HOSTILE = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1970-01-01T00:00:00Z",
        "\u0661\u0662\u0663",  # Arabic-Indic digits: str.isdigit() says yes, float() reads them
        "\uff19\uff19",  # fullwidth digits
        "1_000",
        " 12 ",
        "-1",
        "1e308",
        True,
        False,
        0,
        -1,
        10**19,
        1e308,
        "",
        "x" * 300,
        "\u202e",
    ]
)
field_values = json_values | HOSTILE


def _put(event: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    target = event
    for step in path[:-1]:
        if not isinstance(target.get(step), dict):
            target[step] = {}
        target = target[step]
    target[path[-1]] = value


def mutated_fields(
    base: dict[str, Any], reads: Sequence[str], rekey: Callable[[dict[str, Any], str], None]
) -> st.SearchStrategy[dict[str, Any]]:
    """`base` under a new natural key with one to three of the fields in `reads` (dotted
    paths) replaced; the fields replaced first may be objects the later ones sit in."""
    paths = st.sampled_from([tuple(read.split(".")) for read in reads])

    def build(changes: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(json.dumps(base))
        rekey(event, str(uuid.uuid4()))  # not Hypothesis' to choose: it would reuse a few
        for path, value in changes:
            _put(event, path, value)
        return event

    return st.lists(st.tuples(paths, field_values), min_size=1, max_size=3).map(build)


def mutated_key(
    base: dict[str, Any], reads: Sequence[str], rekey: Callable[[dict[str, Any], str], None]
) -> st.SearchStrategy[dict[str, Any]]:
    """`base` under a new natural key with any key (an existing one or a new one) of an object
    holding a field in `reads` replaced."""
    objects = sorted({tuple(read.split("."))[:-1] for read in reads})

    def keys(path: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
        inner = _dig(base, path)
        names = sorted(inner) if isinstance(inner, dict) and inner else ["x"]
        return (st.sampled_from(names) | st.text(max_size=10)).map(lambda key: (*path, key))

    def build(change: tuple[tuple[str, ...], Any]) -> dict[str, Any]:
        event: dict[str, Any] = json.loads(json.dumps(base))
        rekey(event, str(uuid.uuid4()))
        _put(event, *change)
        return event

    return st.tuples(st.sampled_from(objects).flatmap(keys), field_values).map(build)


@dataclass(frozen=True)
class ContactCentre:
    path: str
    reads: Mapping[str, Sequence[str]]  # fixture -> the fields its adapter reads, dotted (the
    # per-provider tests' READ, which sweep the same fields with hostile values)
    sign: Callable[[bytes], dict[str, str]]  # the headers the platform adds, for this body
    rekey: Callable[[dict[str, Any], str], None]  # gives an event of its a new natural key
    fresh: str  # the fixture of a call's end


def _eventbridge_key(body: bytes) -> dict[str, str]:
    return {"x-breather-key": GENESYS_SECRET}


def _eventbridge_basic(body: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"breather:{CONNECT_SECRET}".encode()).decode()}


def _zoom_headers(body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {"x-zm-request-timestamp": stamp, "x-zm-signature": zoom_sign(ZOOM_SECRET, stamp, body)}


def _webex_headers(body: bytes) -> dict[str, str]:
    return {"X-Webex-Signature": webex_sign(WEBEX_SECRET, body)}


def _rekey_genesys(event: dict[str, Any], key: str) -> None:
    body = event["detail"].get("eventBody") or {}
    body.update(sessionId=key, eventTime=int(time.time() * 1000))


def _rekey_connect(event: dict[str, Any], key: str) -> None:
    detail = event["detail"]
    if "contactArn" in detail:
        detail["contactArn"] = detail["contactArn"].rsplit("/", 1)[0] + "/" + key
    else:
        detail["contactId"] = key


_ZOOM_STAMPS = itertools.count()


def _rekey_zoom(event: dict[str, Any], key: str) -> None:
    event["event_ts"] = int(time.time() * 1000) + next(_ZOOM_STAMPS)  # both only grow: unique


def _rekey_webex(event: dict[str, Any], key: str) -> None:
    event["data"]["taskId"] = key


CONTACT_CENTRES = {
    "genesys": ContactCentre(
        "/webhooks/genesys",
        {
            "user_end": (
                "detail-type",
                "detail",
                "detail.topicName",
                "detail.eventBody",
                *(
                    f"detail.eventBody.{field}"
                    for field in (
                        "conversationId",
                        "userId",
                        "sessionId",
                        "eventTime",
                        "direction",
                        "disconnectType",
                        "queueId",
                        "interactingDurationMs",
                        "heldDurationMs",
                    )
                ),
            ),
            "acw": ("detail.topicName", "detail.eventBody.wrapupCode", "detail.eventBody.userId"),
        },
        _eventbridge_key,
        _rekey_genesys,
        "user_end",
    ),
    "connect": ContactCentre(
        "/webhooks/connect",
        CONNECT_READS,
        _eventbridge_basic,
        _rekey_connect,
        "disconnected",
    ),
    "zoom": ContactCentre(
        "/webhooks/zoom",
        {**ZOOM_READS, "url_validation": ("event", "payload", "payload.plainToken")},
        _zoom_headers,
        _rekey_zoom,
        "engagement_user_ended",
    ),
    "webex": ContactCentre(
        "/webhooks/webex",
        WEBEX_READS,
        _webex_headers,
        _rekey_webex,
        "task_ended",
    ),
}


def contact_centre_bodies(name: str) -> st.SearchStrategy[bytes]:
    centre = CONTACT_CENTRES[name]
    fields = st.one_of(
        [mutated_fields(_fixture(name, event), reads, centre.rekey) for event, reads in centre.reads.items()]
    )
    keys = st.one_of(
        [mutated_key(_fixture(name, event), reads, centre.rekey) for event, reads in centre.reads.items()]
    )
    junk = st.one_of(json_values.map(dumps), deep.map(str.encode), st.binary(max_size=200))
    # one_of picks a branch evenly: the fields the adapter reads get half the examples.
    return st.one_of(fields.map(dumps), fields.map(dumps), keys.map(dumps), junk)


def _dig(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def still_accepts(harness: Harness, caplog: pytest.LogCaptureFixture, centre: ContactCentre) -> None:
    event = _fixture(centre.path.rsplit("/", 1)[1], centre.fresh)
    centre.rekey(event, str(uuid.uuid4()))
    body = dumps(event)
    headers = {"Content-Type": "application/json", **centre.sign(body)}
    good = harness.client.post(centre.path, content=body, headers=headers)
    assert good.status_code == 200 and good.json()["status"] == "accepted", good.text
    assert "Traceback" not in caplog.text


# Header values as a garbled or hostile sender might set them: any printable Latin-1.
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=80
)


@pytest.mark.parametrize("name", sorted(CONTACT_CENTRES))
def test_contact_centre_webhook_signed(
    shared_harness: Harness, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    centre = CONTACT_CENTRES[name]

    @BOUNDED
    @given(body=contact_centre_bodies(name))
    def run(body: bytes) -> None:
        before = stored(shared_harness)
        headers = {"Content-Type": "application/json", **centre.sign(body)}
        response = shared_harness.client.post(centre.path, content=body, headers=headers)
        check(shared_harness, response, before)

    run()
    still_accepts(shared_harness, caplog, centre)


@pytest.mark.parametrize("name", sorted(CONTACT_CENTRES))
def test_contact_centre_webhook_unsigned(
    shared_harness: Harness, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    """No credential, or a garbled one in every header the platform's check reads: always 401."""
    centre = CONTACT_CENTRES[name]
    header_names = sorted({*centre.sign(b"{}"), "Authorization"})

    @BOUNDED
    @given(
        body=contact_centre_bodies(name),
        garbled=st.dictionaries(st.sampled_from(header_names), header_values, max_size=len(header_names)),
    )
    def run(body: bytes, garbled: dict[str, str]) -> None:
        before = stored(shared_harness)
        headers = {b"Content-Type": b"application/json"}
        headers.update((k.encode(), v.encode("latin-1")) for k, v in garbled.items())
        response = shared_harness.client.post(centre.path, content=body, headers=headers)
        check(shared_harness, response, before)
        assert response.status_code == 401, (response.status_code, response.text[:200])

    run()
    still_accepts(shared_harness, caplog, centre)
