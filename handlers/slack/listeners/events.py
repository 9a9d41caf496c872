"""Events API: the App Home."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.container import Services
from bot.ids import EventType
from bot.messenger import ChatPlatform, ChatUser
from handlers.slack.listeners.actions import Resolve


def register(
    app: App,
    services: Services,
    resolve: Resolve,
    email_of: Callable[[str], str | None],
    locale_of: Callable[[str], str | None] | None = None,
) -> None:
    asked: set[str] = set()  # Slack's locale is asked once per person and process

    @app.event(EventType.APP_HOME_OPENED.value)
    def on_app_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        user_id = str(event.get("user", ""))
        agent = resolve(user_id)
        email = agent.email if agent else email_of(user_id)
        if locale_of is not None and user_id not in asked:
            # Before the page is drawn, so that it is drawn in the language Slack is set to.
            asked.add(user_id)
            if agent is not None:
                services.home.note_platform_locale(agent, locale_of(user_id))
            elif services.identity.readable_teams(email):
                services.home.note_lead_locale(email, locale_of(user_id))
        services.home.opened(
            agent,
            str(body.get("event_id") or event.get("event_ts") or ""),
            email=email,
            chat_user=ChatUser(platform=ChatPlatform.SLACK, user_id=user_id),
        )
