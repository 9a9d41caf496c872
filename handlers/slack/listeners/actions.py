"""Button clicks: ack at once, then one service call."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.checkins.messages import line_notice
from bot.container import Services
from bot.i18n import available_languages
from bot.ids import CHECKIN_CHOICES, PAUSE_CHOICES, ActionId, language_of_action
from bot.messenger import ChatPlatform, ChatUser
from bot.roster import RosterAgent
from handlers.slack import payloads

Resolve = Callable[[str], RosterAgent | None]


def register(app: App, services: Services, resolve: Resolve) -> None:
    def on_checkin(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        trigger = payloads.trigger_id(body)
        notice = services.checkin_actions.answer(
            resolve(payloads.user_id(body)),
            payloads.action_value(body),
            ActionId(action["action_id"]),
            payloads.message_location(body),
            trigger,
        )
        if notice is not None and trigger is not None:
            # Shown to the clicker alone, on their click's trigger; the message stays as it is.
            services.messenger.open_form(trigger, notice.form)

    for choice in CHECKIN_CHOICES:
        app.action(choice.value)(on_checkin)

    def on_home_toggle(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        agent = resolve(payloads.user_id(body))
        if agent is not None:  # the Home tab itself is republished to show the new state
            services.home.pause_from_home(agent, ActionId(action["action_id"]))

    for pause in (*PAUSE_CHOICES, ActionId.HOME_RESUME):
        app.action(pause.value)(on_home_toggle)

    def on_buddy_toggle(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        agent = resolve(payloads.user_id(body))
        if agent is not None:
            services.home.set_buddy(agent, action["action_id"] == ActionId.HOME_BUDDY_ON.value)

    app.action(ActionId.HOME_BUDDY_ON.value)(on_buddy_toggle)
    app.action(ActionId.HOME_BUDDY_OFF.value)(on_buddy_toggle)

    def on_buddy_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        trigger = payloads.trigger_id(body)
        notice = services.recovery_actions.answer_buddy(
            resolve(payloads.user_id(body)),
            payloads.action_value(body),
            action["action_id"] == ActionId.BUDDY_FREE.value,
            payloads.message_location(body),
        )
        if notice is not None and trigger is not None:
            services.messenger.open_form(trigger, notice.form)

    app.action(ActionId.BUDDY_FREE.value)(on_buddy_answer)
    app.action(ActionId.BUDDY_CANT.value)(on_buddy_answer)

    def on_pairing_toggle(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        agent = resolve(payloads.user_id(body))
        if agent is not None:
            services.home.set_pairing(agent, action["action_id"] == ActionId.HOME_PAIRING_ON.value)

    app.action(ActionId.HOME_PAIRING_ON.value)(on_pairing_toggle)
    app.action(ActionId.HOME_PAIRING_OFF.value)(on_pairing_toggle)

    @app.action(ActionId.PAIRING_SKIP.value)
    def on_pairing_skip(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        agent = resolve(payloads.user_id(body))
        trigger = payloads.trigger_id(body)
        if agent is not None and trigger is not None:  # the answer, to the clicker alone
            reply = services.home.skip_pairing(agent)
            services.messenger.open_form(trigger, line_notice(reply, services.home.catalogue_for(agent)))

    def on_thanks(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        # A team lead, who is usually not an agent: known by the e-mail Slack holds for them.
        ack()
        user_id = payloads.user_id(body)
        agent = resolve(user_id)
        email = agent.email if agent else services.messenger.email_of(user_id)
        if action["action_id"] == ActionId.THANKS_SAY.value:
            # The nudge itself is updated to say the thanks are posted.
            services.thanks_actions.say_thanks(
                email, payloads.action_value(body), payloads.message_location(body)
            )
            return
        reply = services.thanks_actions.set_nudges(email, False)
        trigger = payloads.trigger_id(body)
        if trigger is not None:  # the answer, to the clicker alone
            services.messenger.open_form(trigger, line_notice(reply))

    app.action(ActionId.THANKS_SAY.value)(on_thanks)
    app.action(ActionId.THANKS_OFF.value)(on_thanks)

    def on_surveys_toggle(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        agent = resolve(payloads.user_id(body))
        if agent is not None:
            services.home.set_surveys(agent, action["action_id"] == ActionId.HOME_SURVEYS_ON.value)

    app.action(ActionId.HOME_SURVEYS_ON.value)(on_surveys_toggle)
    app.action(ActionId.HOME_SURVEYS_OFF.value)(on_surveys_toggle)

    def on_language(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = payloads.user_id(body)
        agent = resolve(user_id)
        language = language_of_action(str(action["action_id"]))
        if language not in available_languages():
            return
        if agent is not None:
            services.home.set_language(agent, language, redraw_manager=True)
        elif email := services.messenger.email_of(user_id):
            # A team lead who is not an agent, on the Manager view of the Home tab.
            services.home.set_lead_language(
                email, language, chat_user=ChatUser(platform=ChatPlatform.SLACK, user_id=user_id)
            )

    app.action(re.compile(r"^" + re.escape(ActionId.HOME_LANGUAGE.value) + r"\.[a-z]+$"))(on_language)
