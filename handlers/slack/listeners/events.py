"""Events API: the App Home."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services import Services
from handlers.slack.listeners.actions import Resolve


def register(app: App, services: Services, resolve: Resolve) -> None:
    @app.event("app_home_opened")
    def on_app_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab") != "home":
            return
        agent = resolve(str(event.get("user", "")))
        if agent is not None:
            services.home_opened(agent, str(body.get("event_id") or event.get("event_ts") or ""))
