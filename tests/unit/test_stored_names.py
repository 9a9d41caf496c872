"""The enums and keys name values already stored in databases: they must never change."""

from __future__ import annotations

from bot import outbox_keys as keys
from bot.digests.service import DigestVia
from bot.messenger import ChatPlatform
from bot.outbox_keys import Topic
from storage.models import InboundKind, InvitationState, OutboxKind


def test_stored_values_stay_as_rows_hold_them() -> None:
    assert [k.value for k in OutboxKind] == ["direct", "channel", "update", "file", "home", "delete"]
    assert [s.value for s in InvitationState] == [
        "queued",
        "sent",
        "answered",
        "skipped",
        "withdrawn",
        "expired",
    ]
    assert [k.value for k in InboundKind] == ["call", "feedback"]
    assert [p.value for p in ChatPlatform] == ["slack", "teams"]
    assert {v.value for v in DigestVia} >= {"cli", "slack command", "app home", "weekly dm"}
    assert (Topic.CHECKIN.value, Topic.COMPLIMENT_POST.value, Topic.NONE.value) == (
        "checkin",
        "compliment_post",
        "",
    )


def test_a_check_ins_reply_is_found_again_from_the_request_it_led_to() -> None:
    # A break row keeps the check-in's key as its request_key; the reply it withdraws is the
    # one the check-in's answer wrote.
    assert keys.checkin("c1") == "checkin:c1"
    assert keys.checkin_answer("c1") == "checkin:c1:answer" == keys.answer_to(keys.checkin("c1"))


def test_keys_written_in_one_place_and_found_in_another_keep_their_stored_form() -> None:
    assert keys.compliment_post("k1") == "compliment:k1:post"
    assert keys.talk_sent("r1") == "talk:r1:sent"
