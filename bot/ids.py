"""Interaction and job ids. Values in ActionId are part of the external contract."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CHECKIN_OK = "checkin.ok"
    CHECKIN_BREAK = "checkin.break"
    CHECKIN_TALK = "checkin.talk"
    COMPLIMENT_SHARE = "compliment.share"
    COMPLIMENT_KEEP_PRIVATE = "compliment.keep_private"
    PULSE_OPEN = "pulse.open"
    PULSE_SKIP = "pulse.skip"
    PULSE_OPT_OUT = "pulse.opt_out"
    HOME_PAUSE = "home.pause"
    HOME_RESUME = "home.resume"


class CallbackId(StrEnum):
    """Modal callback ids (Slack `callback_id`, Teams dialog ids)."""

    TALK = "recovery.talk"


CHECKIN_CHOICES: tuple[ActionId, ...] = (ActionId.CHECKIN_OK, ActionId.CHECKIN_BREAK, ActionId.CHECKIN_TALK)


class CheckinAnswer(StrEnum):
    OK = "ok"
    BREAK = "break"
    TALK = "talk"

    @classmethod
    def from_action(cls, action: ActionId) -> CheckinAnswer:
        return cls(action.value.split(".", 1)[1])


class Command(StrEnum):
    BREATHER = "/breather"
    KUDOS = "/kudos"


class JobId(StrEnum):
    PURGE = "purge"
