"""Compliments on Slack: taking a shared one down again and "Share as a compliment" on any
message (the buttons in the agent's DM are in the interaction table: bot/interactions.py).
Thin: ack, read the payload, call one service."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.compliments.messages import RECIPIENT_FIELD
from bot.container import Services
from bot.ids import CallbackId
from handlers.slack import payloads
from handlers.slack.blocks import form_view, submitted_values
from handlers.slack.listeners.actions import Resolve
from handlers.slack.mentions import plain_text


def register(app: App, services: Services, resolve: Resolve) -> None:
    @app.shortcut(CallbackId.REMOVE_COMPLIMENT.value)
    def on_remove_post(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        where, _ = payloads.shortcut_message(body)
        services.compliments.remove_post(
            payloads.user_id(body),
            channel=where.channel,
            ts=where.ts,
            trigger=payloads.required_trigger_id(body),
        )

    @app.shortcut(CallbackId.SHARE_AS_COMPLIMENT.value)
    def on_share_as_compliment(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        where, text = payloads.shortcut_message(body)

        def name_of(user_id: str) -> str | None:
            agent = resolve(user_id)
            return agent.name if agent else None

        services.compliments.share_form(
            payloads.user_id(body),
            text=plain_text(text, name_of),
            channel=where.channel,
            ts=where.ts,
            trigger=payloads.required_trigger_id(body),
        )

    @app.view(CallbackId.COMPLIMENT_RECIPIENT.value)
    def on_recipient_chosen(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        # The answer travels in the ack (a field error, or the modal turned into a notice), so
        # the small unit of work runs first, well inside Slack's 3 s.
        result = services.compliments.submit_recipient(
            payloads.user_id(body),
            recipient_user_id=submitted_values(view).get(RECIPIENT_FIELD, ""),
            context=str(view.get("private_metadata") or ""),
        )
        if result.field_error:
            ack(response_action="errors", errors={RECIPIENT_FIELD: result.field_error})
        elif result.notice is not None:
            ack(response_action="update", view=form_view(result.notice))
        else:
            ack()

    @app.view(CallbackId.COMPLIMENT_NOTICE.value)
    def on_notice_closed(ack: Ack) -> None:
        ack()
