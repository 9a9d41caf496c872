"""A team lead's daily nudge about kind words in the team, their "Say thanks", and turning
the nudge off."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.compliments.thanks import ThanksNudges
from bot.config import BreatherConfig
from bot.i18n import Catalogue, catalogue
from bot.identity import Identity
from bot.messenger import Delivered
from storage.db import session_scope


class ThanksActions:
    def __init__(
        self,
        *,
        engine: Engine,
        config: BreatherConfig,
        thanks: ThanksNudges,
        identity: Identity,
        lead_catalogue: Callable[[str | None], Catalogue | None],
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.config = config
        self.thanks = thanks
        self.identity = identity
        self.lead_catalogue = lead_catalogue  # a lead's own language (bot/home/actions.py)
        self.clock = clock

    def nudge(self, team_id: str) -> int:
        """Each lead of the team hears (once a day) about yesterday's kind words in the team."""
        team = self.config.team(team_id)
        with session_scope(self.engine) as session:
            return self.thanks.nudge(session, team=team, now=self.clock())

    def say_thanks(self, email: str | None, value: str, where: Delivered) -> str:
        """A lead's "Say thanks": their thanks in the team's channel."""
        if not email:
            return catalogue("en").t("error.not_allowed")
        with session_scope(self.engine) as session:
            return self.thanks.say_thanks(session, email=email, value=value, where=where, now=self.clock())

    def set_nudges(self, email: str | None, on: bool) -> str:
        leads = self.identity.teams_led(email)
        cat = self.lead_catalogue(email) or catalogue("en")
        if not leads or email is None:
            return cat.t("thanks.not_lead")
        with session_scope(self.engine) as session:
            self.thanks.set_nudges(session, email, on, self.clock())
        return cat.t("thanks.on" if on else "thanks.off")
