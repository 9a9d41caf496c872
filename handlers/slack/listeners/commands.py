"""Slash commands. The reply travels in the ack itself, so it is private and needs no API call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.container import Services
from bot.ids import Command
from bot.messenger import ChatPlatform, ChatUser
from handlers.slack import payloads
from handlers.slack.blocks import message_blocks
from handlers.slack.listeners.actions import Resolve
from handlers.slack.mentions import leading_mention, plain_text


def register(app: App, services: Services, resolve: Resolve, email_of: Callable[[str], str | None]) -> None:
    @app.command(Command.BREATHER.value)
    def on_breather(ack: Ack, body: dict[str, Any]) -> None:
        # The work is one small row at most, well inside Slack's 3 s; the answer is the ack.
        user_id = payloads.user_id(body)
        agent = resolve(user_id)
        text = str(body.get("text", ""))
        # A caller who is not an agent may lead a team (they usually do not take calls): known by
        # their e-mail, which also tells the language they read (bot/languages.py).
        email = agent.email if agent else email_of(user_id)
        reply = services.commands.breather(
            agent, text, email=email, caller=ChatUser(platform=ChatPlatform.SLACK, user_id=user_id)
        )
        ack(text=reply.text, blocks=message_blocks(reply))

    @app.command(Command.KUDOS.value)
    def on_kudos(ack: Ack, body: dict[str, Any]) -> None:
        # `/kudos <@U123|ana> message`: the reply (sent, or why not) is the private ack.
        recipient, words = leading_mention(str(body.get("text", "")))

        def name_of(user_id: str) -> str | None:
            agent = resolve(user_id)
            return agent.name if agent else None

        ack(text=services.compliments.kudos(payloads.user_id(body), recipient, plain_text(words, name_of)))
