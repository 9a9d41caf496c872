"""`/breather <sub-command>` (and Teams' typed `breather …`), and what to tell someone whose
click or command failed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine

from bot.compliments.thanks_actions import ThanksActions
from bot.config import BreatherConfig, ProductSettings
from bot.delivery import Outbox
from bot.digests.desk import DigestDesk
from bot.home.actions import HomeActions
from bot.i18n import Catalogue, catalogue, language_choices
from bot.identity import Identity
from bot.languages import DEFAULT_WORDS, catalogue_for, failure_catalogue, language_from_locale
from bot.messenger import ChatUser, Message, Text
from bot.outbox_keys import Topic
from bot.roster import RosterAgent
from storage.db import session_scope

log = logging.getLogger(__name__)


class Commands:
    def __init__(
        self,
        *,
        engine: Engine,
        config: BreatherConfig,
        identity: Identity,
        home: HomeActions,
        thanks: ThanksActions,
        digest_desk: DigestDesk,
        outbox: Outbox,
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.config = config
        self.product: ProductSettings = config.settings
        self.identity = identity
        self.home = home
        self.thanks = thanks
        self.digest_desk = digest_desk
        self.outbox = outbox
        self.clock = clock

    def breather(
        self,
        agent: RosterAgent | None,
        text: str,
        *,
        email: str | None = None,
        caller: ChatUser | None = None,
    ) -> Message:
        """`/breather <sub-command>`; returns the private reply."""
        words = text.strip().split()
        sub = words[0].lower() if words else "help"
        who = email or (agent.email if agent else None)
        cat = (
            catalogue_for(self.engine, agent) if agent else (self.home.lead_catalogue(who) or catalogue("en"))
        )
        if sub == "digest":
            return self.digest_desk.for_lead(email or (agent.email if agent else None), words[1:], caller)
        if sub == "help":
            reply = cat.t("command.help")
        elif sub == "privacy":
            reply = cat.t(
                "command.privacy",
                min_group=self.product.anonymity_min_group,
                count=self.product.retention_days,
                retention_days=self.product.retention_days,
            )
        elif sub == "thanks":
            choice = words[1].lower() if len(words) > 1 else ""
            reply = (
                self.thanks.set_nudges(who, choice == "on")
                if choice in ("on", "off")
                else cat.t("thanks.usage")
            )
        elif sub == "language":
            reply = self._language(agent, cat, words[1] if len(words) > 1 else None, email=who)
        elif sub in ("pairing", "coffee") and agent is not None:
            choice = words[1].lower() if len(words) > 1 else ""
            if choice in ("on", "off"):
                reply = self.home.set_pairing(agent, choice == "on")
            else:
                reply = self.home.skip_pairing(agent) if choice == "skip" else cat.t("pairing.usage")
        elif sub == "buddy" and agent is not None:
            choice = words[1].lower() if len(words) > 1 else ""
            reply = (
                self.home.set_buddy(agent, choice == "on")
                if choice in ("on", "off")
                else cat.t("buddy.usage")
            )
        elif sub in ("pause", "resume", "away"):
            if agent is not None and sub == "resume":
                reply = self.home.set_paused(agent, False)
            elif agent is not None:
                reply = self.home.pause(agent, " ".join(words[1:]), away=sub == "away")
            elif self.identity.readable_teams(email):
                # A team lead (or an admin) who is not an agent gets no check-ins to pause.
                reply = cat.t("command.lead_not_agent")
            else:
                reply = cat.t("command.not_on_roster")
        else:
            reply = cat.t("command.unknown", text=text.strip()[:50])
        return Message(text=reply, parts=(Text(text=reply),))

    def _language(
        self, agent: RosterAgent | None, cat: Catalogue, word: str | None, email: str | None = None
    ) -> str:
        choices = language_choices()
        lead = email if agent is None and self.identity.readable_teams(email) else None
        if agent is None and lead is None:
            return cat.t("command.not_on_roster")
        if word is None:
            return cat.t("command.language.current", choices=choices)
        language = None if word.lower() in DEFAULT_WORDS else language_from_locale(word)
        if language is None and word.lower() not in DEFAULT_WORDS:
            return cat.t("command.language.unknown", text=word[:20], choices=choices)
        if agent is not None:
            return self.home.set_language(agent, language)
        assert lead is not None
        return self.home.set_lead_language(lead, language, redraw=False)

    def unexpected_error(self, agent: RosterAgent | None, reference: str, error: BaseException) -> str:
        """What to tell someone whose click or command failed, in their language; an agent
        also gets it as a DM, since an interaction's answer after its ack shows nothing."""
        text = failure_catalogue(self.engine, agent, error).t("error.unexpected", reference=reference)
        if agent is not None:
            try:
                with session_scope(self.engine) as session:
                    self.outbox.send_direct(
                        session,
                        key=f"failure:{reference}",
                        to=agent.ref(),
                        message=Message(text=text, parts=(Text(text=text),)),
                        now=self.clock(),
                        topic=Topic.FAILURE,
                    )
            except Exception as error:  # the database may be what failed: the log has the reference
                log.warning("could not tell the agent about failure %s: %s", reference, type(error).__name__)
        return text
