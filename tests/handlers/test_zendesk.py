"""The Zendesk adapter: signature and freshness on the raw bytes, then the trigger body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.errors import InvalidInput, InvalidSignature
from bot.events import CustomerFeedback
from handlers.telephony.base import RawRequest
from handlers.telephony.csat import DISPLAY_WORDS
from handlers.telephony.zendesk import MAX_AGE_S, ZendeskAdapter, sign, trigger_body
from tests.fakes.zendesk import DISPLAY_TEXT, LEGACY_BODY, RatedTicket, render

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zendesk"
SECRET = "zendesk-secret"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def request(
    body: bytes, *, signed_at: datetime = NOW, secret: str = SECRET, headers: dict[str, str] | None = None
) -> RawRequest:
    stamp = signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    sent = {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": sign(secret, body, stamp),
        "x-zendesk-webhook-signature-timestamp": stamp,
    }
    sent.update(headers or {})
    return RawRequest(
        path="/webhooks/zendesk", public_url="https://b.test/webhooks/zendesk", headers=sent, body=body
    )


def adapter(secret: str | None = SECRET) -> ZendeskAdapter:
    return ZendeskAdapter(secret, clock=NOW.timestamp)


def parse(data: dict[str, Any]) -> list[Any]:
    return adapter().parse(request(json.dumps(data).encode()))


def test_signature_is_base64_hmac_sha256_of_timestamp_then_body() -> None:
    body = b'{"say": "hello"}'
    expected = base64.b64encode(
        hmac.new(b"k", b"2026-11-23T09:00:00Z" + body, hashlib.sha256).digest()
    ).decode()
    assert sign("k", body, "2026-11-23T09:00:00Z") == expected


def test_a_correctly_signed_fresh_request_is_accepted() -> None:
    adapter().verify(request(b"{}"))


def test_a_retry_signed_half_an_hour_ago_is_still_accepted() -> None:
    adapter().verify(request(b"{}", signed_at=NOW - timedelta(minutes=30)))


@pytest.mark.parametrize(
    "bad",
    [
        lambda: request(b"{}", secret="wrong"),
        lambda: request(b"{}", signed_at=NOW - timedelta(seconds=MAX_AGE_S + 60)),
        lambda: request(b"{}", signed_at=NOW + timedelta(minutes=10)),
        lambda: request(b"{}", headers={"x-zendesk-webhook-signature-timestamp": "yesterday"}),
        lambda: request(b"{}", headers={"x-zendesk-webhook-signature": ""}),
        lambda: RawRequest(path="/", public_url="", headers={"content-type": "application/json"}, body=b"{}"),
    ],
    ids=["wrong secret", "stale", "future", "garbled timestamp", "empty signature", "no headers"],
)
def test_bad_signatures_are_refused(bad: Any) -> None:
    with pytest.raises(InvalidSignature):
        adapter().verify(bad())


def test_a_tampered_body_is_refused() -> None:
    signed = request(b'{"a": 1}')
    tampered = RawRequest(signed.path, signed.public_url, signed.headers, b'{"a": 2}')
    with pytest.raises(InvalidSignature):
        adapter().verify(tampered)


def test_without_a_secret_everything_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="ZENDESK_WEBHOOK_SECRET"):
        adapter(None).verify(request(b"{}"))


def test_good_rating_with_comment_becomes_customer_feedback() -> None:
    (event,) = parse(load("satisfaction_good"))
    assert isinstance(event, CustomerFeedback)
    assert (event.agent.kind, event.agent.id) == ("zendesk_user_id", "3001")
    assert event.rating == "good"  # "Good" as the placeholder renders it
    assert event.event_id == "ticket:77:good:901"
    assert event.customer_name == "Jo Bloggs"
    assert event.comment is not None and event.comment.startswith("Ana was so patient")


def test_numeric_ids_and_no_rating_id_make_the_same_kind_of_key() -> None:
    (event,) = parse(load("satisfaction_bad"))
    assert event.rating == "bad" and event.event_id == "ticket:78:bad"


@pytest.mark.parametrize("score", ["offered", "unoffered", "Offered"])
def test_no_rating_yet_is_ignored(score: str) -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"]["score"] = score
    assert parse(data) == []


def test_an_unassigned_ticket_is_ignored() -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"]["assignee_id"] = ""
    assert parse(data) == []


def test_the_ticket_id_may_come_from_the_ticket() -> None:
    data = load("satisfaction_good")
    del data["satisfaction_rating"]["ticket_id"]
    (event,) = parse(data)
    assert event.event_id.startswith("ticket:77:")


def test_an_empty_comment_is_no_comment_and_a_long_one_is_clipped() -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"]["comment"] = "   "
    assert parse(data)[0].comment is None
    data["satisfaction_rating"]["comment"] = "x" * 9000
    assert len(parse(data)[0].comment) == 5000


def test_another_triggers_body_is_acknowledged_and_ignored() -> None:
    assert parse({"type": "ticket_tags", "ticket": {"id": 1}}) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1]", 400),
        (json.dumps({"type": "satisfaction_rating"}).encode(), 422),
        (json.dumps({"satisfaction_rating": {"score": "good", "assignee_id": {"x": 1}}}).encode(), 422),
        (json.dumps({"satisfaction_rating": {"score": "good", "assignee_id": 1}}).encode(), 422),
    ],
    ids=["not JSON", "array", "no rating", "wrongly typed agent", "no ticket id"],
)
def test_bad_bodies_are_refused_with_the_right_status(body: bytes, status: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        adapter().parse(request(body))
    assert raised.value.status == status


# --- bodies exactly as Zendesk renders them ----------------------------------------------------

HEARTFELT = 'She said "no problem at all" \u2013 twice!\nFixed in 5 min \U0001f60a\tC:\\Users\\jo\\'


def rendered(template: str, ticket: RatedTicket) -> list[Any]:
    return adapter().parse(request(render(template, ticket)))


@pytest.mark.parametrize("rating", ["good", "bad"])
def test_the_trigger_body_sends_a_literal_score_and_any_comment_arrives_whole(rating: str) -> None:
    ticket = RatedTicket(rating=rating, comment=HEARTFELT, requester='Jo "JJ" O\'Brien')

    (event,) = rendered(trigger_body(rating), ticket)  # type: ignore[arg-type]

    assert (event.rating, event.event_id) == (rating, f"ticket:77:{rating}")
    assert event.comment == HEARTFELT.strip()
    assert event.customer_name == 'Jo "JJ" O\'Brien'


def test_the_trigger_body_is_json_with_placeholders_only_inside_strings() -> None:
    # The trigger editor takes it as JSON as it is; the score is a literal, not a placeholder.
    for rating in ("good", "bad"):
        data = json.loads(trigger_body(rating))
        assert data["satisfaction_rating"]["score"] == rating
        assert data["satisfaction_rating"]["comment"] == "{{satisfaction.current_comment}}"
        assert list(data["satisfaction_rating"])[-1] == "comment"  # free text last


@pytest.mark.parametrize("language", sorted(DISPLAY_TEXT))
@pytest.mark.parametrize("rating", ["good", "bad"])
def test_the_legacy_body_with_a_display_text_is_still_read(language: str, rating: str) -> None:
    ticket = RatedTicket(rating=rating, comment=HEARTFELT, language=language)

    (event,) = rendered(LEGACY_BODY, ticket)

    assert event.rating == rating
    assert event.comment == HEARTFELT.strip()


def test_every_language_breather_speaks_has_display_words() -> None:
    from bot.i18n import available_languages

    assert set(available_languages()) <= set(DISPLAY_WORDS)


@pytest.mark.parametrize("text", ["Excelente", "\U0001f600", "Satisfait", "4"])
def test_a_display_text_breather_cannot_read_is_a_422_naming_the_score(text: str) -> None:
    body = LEGACY_BODY.replace("{{satisfaction.current_rating}}", text)

    with pytest.raises(InvalidInput) as refused:
        adapter().parse(request(render(body, RatedTicket())))

    assert refused.value.status == 422
    assert str(refused.value).startswith("satisfaction_rating.")
    assert "score" in str(refused.value) or "scale" in str(refused.value)


def test_an_empty_score_is_a_422_not_an_ignored_rating() -> None:
    body = LEGACY_BODY.replace("{{satisfaction.current_rating}}", "")

    with pytest.raises(InvalidInput) as refused:
        adapter().parse(request(render(body, RatedTicket())))

    assert (refused.value.status, str(refused.value)) == (422, "satisfaction_rating.score: field required")


@pytest.mark.parametrize(
    ("rating", "scale", "verdict"),
    [
        (1, 2, "bad"),
        (2, 2, "good"),
        (2, 3, "bad"),
        (3, 3, "good"),
        (3, 5, "bad"),
        (4, 5, "good"),
        (5, 5, "good"),
    ],
)
def test_the_newer_csat_scale_maps_to_good_and_bad_as_zendesk_counts_it(
    rating: int, scale: int, verdict: str
) -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"].update({"score": None, "rating": rating, "scale": scale})

    (event,) = parse(data)

    assert (event.rating, event.event_id) == (verdict, f"ticket:77:{verdict}:901")


def test_a_numeric_score_with_its_scale_is_read_as_the_newer_csat() -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"].update({"score": "4", "scale": "5"})

    assert parse(data)[0].rating == "good"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rating": 4}, "satisfaction_rating.scale: field required"),
        ({"rating": 6, "scale": 5}, "satisfaction_rating.rating: 6 is not a rating on a 5-point scale"),
        ({"rating": 2.5, "scale": 5}, "satisfaction_rating.rating: 2.5 is not a rating"),
        ({"rating": 3, "scale": 4}, "satisfaction_rating.scale: 4 is not one of Zendesk's scales"),
        ({"rating": "lots", "scale": 5}, "satisfaction_rating.rating: Input should be a valid number"),
    ],
)
def test_an_unreadable_newer_csat_rating_is_a_422_naming_the_field(
    change: dict[str, Any], message: str
) -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"].update({"score": None, **change})

    with pytest.raises(InvalidInput) as refused:
        parse(data)

    assert refused.value.status == 422
    assert str(refused.value).startswith(message)


def test_a_literal_score_wins_over_a_rating_the_body_also_carries() -> None:
    data = load("satisfaction_good")
    data["satisfaction_rating"].update({"score": "good", "rating": 1, "scale": 5})

    assert parse(data)[0].rating == "good"


@pytest.mark.parametrize(
    "comment",
    ['x", "score": "good', 'x"}, "satisfaction_rating": {"score": "good", "assignee_id": "42'],
    ids=["overrides the score", "a second rating for another agent"],
)
def test_a_comment_that_breaks_out_of_its_string_changes_nothing(comment: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        rendered(trigger_body("bad"), RatedTicket(rating="bad", comment=comment))

    assert refused.value.status == 400
    assert "given twice" in str(refused.value)


def test_a_body_that_is_broken_beyond_the_free_text_is_a_400() -> None:
    body = render(trigger_body("good"), RatedTicket()).replace(b'"ticket_id"', b"ticket_id")

    with pytest.raises(InvalidInput) as refused:
        adapter().parse(request(body))

    assert refused.value.status == 400
    assert "docs/phone-systems/zendesk.md" in str(refused.value)


def test_the_command_prints_the_trigger_body_and_the_docs_show_the_same() -> None:
    from typer.testing import CliRunner

    from bot.cli import app as cli

    docs = (Path(__file__).resolve().parents[2] / "docs" / "phone-systems" / "zendesk.md").read_text()
    for rating in ("good", "bad"):
        result = CliRunner().invoke(cli, ["zendesk", "trigger-body", rating])
        assert result.exit_code == 0
        assert result.output.strip() == trigger_body(rating)
        assert trigger_body(rating) in docs, f"the docs' {rating} trigger body is out of date"
    refused = CliRunner().invoke(cli, ["zendesk", "trigger-body", "great"])
    assert refused.exit_code == 1 and "RATING: must be good or bad" in refused.output


def test_a_reading_zendesk_does_not_document_is_logged_once_without_the_words(
    caplog: pytest.LogCaptureFixture,
) -> None:
    once = adapter()
    with caplog.at_level("INFO", logger="handlers.telephony.zendesk"):
        for comment in ('So "kind"', 'Really "kind"\nthanks'):
            once.parse(request(render(LEGACY_BODY, RatedTicket(comment=comment))))

    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2  # one for the unescaped comment, one for the display text
    assert any("cutting the free text out" in m for m in messages)
    assert any("breather zendesk trigger-body" in m for m in messages)
    assert "kind" not in caplog.text and "Jo Bloggs" not in caplog.text
