"""The pulse survey's modal (its buttons are in the interaction table: bot/interactions.py)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.container import Services
from bot.ids import CallbackId
from handlers.slack import payloads
from handlers.slack.blocks import form_view, submitted_values
from handlers.slack.listeners.actions import Resolve


def register(app: App, services: Services, resolve: Resolve) -> None:
    @app.view(CallbackId.PULSE_SURVEY.value)
    def on_pulse_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        # Validation decides what the ack says (field errors, or the thank-you), so the small
        # write happens first; it stays well inside Slack's 3 s.
        agent = resolve(payloads.user_id(body))
        if agent is None:
            ack()
            return
        submission = services.survey_actions.submit(
            agent, str(view.get("private_metadata", "")), submitted_values(view)
        )
        if submission.errors:
            ack(response_action="errors", errors=submission.errors)
        elif submission.thanks is not None:
            ack(response_action="update", view=form_view(submission.thanks))
        else:
            ack()
