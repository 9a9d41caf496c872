"""An agent's own switches (pause / resume) and their private App Home page."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.checkins.service import lock_prefs
from bot.config import ProductSettings
from bot.delivery import Outbox
from bot.i18n import catalogue
from bot.ids import ActionId
from bot.messenger import Button, Buttons, Heading, HomeView, Note, Text
from bot.roster import RosterAgent
from storage.models import AgentPrefs


class PreferenceService:
    def __init__(self, *, settings: ProductSettings, outbox: Outbox) -> None:
        self.settings = settings
        self.outbox = outbox

    def is_paused(self, session: Session, agent: RosterAgent) -> bool:
        prefs = session.get(AgentPrefs, agent.pseudonym)
        return bool(prefs and prefs.paused)

    def set_paused(self, session: Session, agent: RosterAgent, paused: bool, now: datetime) -> bool:
        """Returns False when nothing changed (already in that state)."""
        prefs = lock_prefs(session, agent, now)
        if prefs.paused == paused:
            return False
        prefs.paused, prefs.updated_at = paused, now
        session.add(prefs)
        return True

    def home(self, agent: RosterAgent, *, paused: bool) -> HomeView:
        cat = catalogue(agent.team.language)
        toggle = (
            Button(action=ActionId.HOME_RESUME.value, label=cat.t("home.resume"), style="primary")
            if paused
            else Button(action=ActionId.HOME_PAUSE.value, label=cat.t("home.pause"))
        )
        return HomeView(
            parts=(
                Heading(text=cat.t("home.title")),
                Text(text=cat.t("home.intro")),
                Text(text=cat.t("home.paused" if paused else "home.active")),
                Buttons(block_id="home", buttons=(toggle,)),
                Note(text=cat.t("home.privacy_note", min_group=self.settings.anonymity_min_group)),
            )
        )

    def refresh_home(self, session: Session, agent: RosterAgent, *, now: datetime, reason: str) -> None:
        view = self.home(agent, paused=self.is_paused(session, agent))
        self.outbox.publish_home(session, key=f"home:{agent.id}:{reason}", to=agent.ref(), view=view, now=now)
