"""What an outbox row is about (its topic), and the keys of the messages one step writes and a
later step finds again.

A row's key names what the message is, so the outbox sends it at most once and a later step can
replace or withdraw it. Keys written in one place and looked up in another are built here, never
by hand; the values are stored (outbox rows, `breaks.request_key`, `talk_requests.request_key`),
so they must not change.
"""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    """Stored with a row (`target.topic`): a hook may run when it is sent (`Outbox.on_sent`)."""

    NONE = ""
    CHECKIN = "checkin"
    BUDDY = "buddy"
    PAIRING = "pairing"
    PAUSE = "pause"
    PULSE = "pulse"
    COMPLIMENT = "compliment"
    COMPLIMENT_POST = "compliment_post"  # the outbox tells where a shared compliment landed
    COMPLIMENT_ROLLUP = "compliment_rollup"
    KUDOS = "kudos"
    THANKS = "thanks"
    DIGEST = "digest"
    SURGE = "surge"
    FAILURE = "failure"


def checkin(checkin_id: str) -> str:
    """The check-in DM; also the `request_key` of the break or talk request it led to."""
    return f"checkin:{checkin_id}"


def answer_to(request_key: str) -> str:
    """What the agent is told after they answered the check-in `request_key` names (one reply
    per check-in, whichever path sends it, so a later path replaces or withdraws it)."""
    return f"{request_key}:answer"


def checkin_answer(checkin_id: str) -> str:
    return answer_to(checkin(checkin_id))


def compliment_post(compliment_id: str) -> str:
    """A shared compliment's channel post: queued on consent, cancelled if it is withdrawn first."""
    return f"compliment:{compliment_id}:post"


def talk_sent(request_id: str) -> str:
    """The agent's "your request went out" line: one per talk request, whichever way it went."""
    return f"talk:{request_id}:sent"
