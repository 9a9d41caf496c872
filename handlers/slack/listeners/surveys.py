"""Pulse-survey buttons and the survey modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.container import Services
from bot.ids import ActionId, CallbackId
from handlers.slack import payloads
from handlers.slack.blocks import form_view, submitted_values
from handlers.slack.listeners.actions import Resolve


def register(app: App, services: Services, resolve: Resolve) -> None:
    @app.action(ActionId.PULSE_OPEN.value)
    def on_pulse_open(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        agent = resolve(payloads.user_id(body))
        if agent is None:
            return
        form = services.survey_actions.open(
            agent, payloads.action_value(body), payloads.message_location(body)
        )
        trigger = payloads.trigger_id(body)
        if form is not None and trigger is not None:
            # The trigger id is valid for 3 s: this call cannot wait in the outbox.
            services.messenger.open_form(trigger, form)

    @app.action(ActionId.PULSE_SKIP.value)
    def on_pulse_skip(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        agent = resolve(payloads.user_id(body))
        if agent is not None:
            services.survey_actions.skip(agent, payloads.action_value(body), payloads.message_location(body))

    @app.action(ActionId.PULSE_OPT_OUT.value)
    def on_pulse_opt_out(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        agent = resolve(payloads.user_id(body))
        if agent is not None:
            services.survey_actions.opt_out(
                agent, payloads.action_value(body), payloads.message_location(body)
            )

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
