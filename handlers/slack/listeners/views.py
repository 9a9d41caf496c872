"""Modal submissions. Slack shows a refusal inside the modal only when it travels in the ack,
so the (short, database-only) service call comes first and its answer is the ack."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.container import Services
from bot.ids import CallbackId
from bot.recovery.messages import TALK_FIELD
from handlers.slack import payloads
from handlers.slack.blocks import submitted_values
from handlers.slack.listeners.actions import Resolve


def register(app: App, services: Services, resolve: Resolve) -> None:
    @app.view(CallbackId.TALK.value)
    def on_talk_submitted(ack: Ack, body: dict[str, Any]) -> None:
        view = payloads.view_state(body)
        agent = resolve(payloads.user_id(body))
        if agent is None:
            ack()
            return
        refusal = services.recovery_actions.submit_talk(
            agent, str(view.get("private_metadata", "")), submitted_values(view).get(TALK_FIELD, "")
        )
        if refusal is None:
            ack()
        else:
            ack(response_action="errors", errors={TALK_FIELD: refusal})
