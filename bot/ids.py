"""Interaction and job ids. Values in ActionId are part of the external contract."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    CHECKIN_OK = "checkin.ok"
    CHECKIN_BREAK = "checkin.break"
    CHECKIN_TALK = "checkin.talk"
    COMPLIMENT_SHARE = "compliment.share"
    COMPLIMENT_KEEP_PRIVATE = "compliment.keep_private"
    COMPLIMENT_REMOVE = "compliment.remove"  # the agent takes a shared compliment down again
    PULSE_OPEN = "pulse.open"
    PULSE_SKIP = "pulse.skip"
    PULSE_OPT_OUT = "pulse.opt_out"
    HOME_PAUSE = "home.pause"
    HOME_RESUME = "home.resume"
    # Pauses that end by themselves (issue 16): one id per choice, as Slack wants ids unique in a block.
    HOME_PAUSE_2H = "home.pause_2h"
    HOME_PAUSE_TOMORROW = "home.pause_tomorrow"
    HOME_PAUSE_MONDAY = "home.pause_monday"
    HOME_BUDDY_ON = "home.buddy_on"  # offer to be a buddy (issue 16)
    HOME_BUDDY_OFF = "home.buddy_off"
    BUDDY_FREE = "buddy.free"  # the buddy asked for a chat answers
    BUDDY_CANT = "buddy.cant"
    HOME_PAIRING_ON = "home.pairing_on"  # coffee pairs (issue 16)
    HOME_PAIRING_OFF = "home.pairing_off"
    PAIRING_SKIP = "pairing.skip"  # skip next week's coffee pair
    THANKS_SAY = "thanks.say"  # a lead's one-click thanks in the team channel (issue 16)
    THANKS_OFF = "thanks.off"  # a lead switches the daily thanks nudge off
    HOME_SURVEYS_OFF = "home.surveys_off"
    HOME_SURVEYS_ON = "home.surveys_on"
    HOME_LANGUAGE = "home.language"  # + ".<code>": one button per language on the Home tab


def language_action(language: str) -> str:
    """The Home tab button that switches to `language` (Slack wants distinct ids in a block)."""
    return f"{ActionId.HOME_LANGUAGE.value}.{language}"


def language_of_action(action_id: str) -> str | None:
    prefix = ActionId.HOME_LANGUAGE.value + "."
    return action_id[len(prefix) :] if action_id.startswith(prefix) else None


# The App Home's pause choices and the words `/breather pause` would take for each.
PAUSE_CHOICES: dict[ActionId, str] = {
    ActionId.HOME_PAUSE: "",
    ActionId.HOME_PAUSE_2H: "for 2 hours",
    ActionId.HOME_PAUSE_TOMORROW: "until tomorrow",
    ActionId.HOME_PAUSE_MONDAY: "until monday",
}

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


class EventType(StrEnum):
    """Events API subscriptions (manifest.yml lists them)."""

    APP_HOME_OPENED = "app_home_opened"


class CallbackId(StrEnum):
    """Shortcut and modal callback ids (manifest.yml lists the shortcuts)."""

    SHARE_AS_COMPLIMENT = "compliment_from_message"  # message shortcut "Share as a compliment"
    REMOVE_COMPLIMENT = "compliment_remove_post"  # message shortcut on a shared compliment
    COMPLIMENT_RECIPIENT = "compliment.recipient"  # modal: who the compliment is about
    COMPLIMENT_NOTICE = "compliment.notice"  # modal: a short outcome, nothing to fill in
    PULSE_SURVEY = "pulse.survey"  # modal: the pulse survey
    TALK = "recovery.talk"  # modal: whom to talk to
    CHECKIN_NOTICE = "checkin.notice"  # read-only modal: why a check-in click changed nothing


class JobId(StrEnum):
    PURGE = "purge"
    PULSE_ROUND = "pulse"  # + ":<team id>"
    PULSE_DISPATCH = "pulse-dispatch"
    DIGEST = "digest"  # + ":<team id>"
    SURGE = "surge"
    COMPLIMENT_ROLLUP = "compliment_rollup"  # per team: f"{JobId.COMPLIMENT_ROLLUP}:{team.id}"
    COMPLIMENT_EXPIRY = "compliment_expiry"
    PAUSE_ENDS = "pause_ends"  # pauses with an end: over, and the agent told once
    PAIRING = "pairing"  # per team: f"{JobId.PAIRING}:{team.id}", weekly coffee pairs
    THANKS_NUDGE = "thanks_nudge"  # per team: the leads' daily nudge about yesterday's kind words
