"""The services one Breather process runs, built from Settings, and what chat users can do.

Transports (Slack listeners, the Teams handler, the sandbox console) call the methods at the
bottom; each is one unit of work with its own transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.checkins.service import AnswerOutcome, CheckinService
from bot.clock import utcnow
from bot.config import BreatherConfig, Settings, load_config
from bot.delivery import Outbox, OutboxWorker
from bot.i18n import catalogue
from bot.ids import ActionId, CheckinAnswer, JobId
from bot.intake import EventProcessor, Intake
from bot.messenger import Delivered, Messenger
from bot.metrics import Metrics
from bot.preferences import PreferenceService
from bot.pseudonyms import Pseudonymizer
from bot.recovery.phone import PhoneSystem
from bot.recovery.service import RecoveryService
from bot.recovery.talk import TalkOutcome
from bot.recovery.worker import BreakWorker
from bot.retention import purge
from bot.roster import Roster, RosterAgent, load_chat_addresses, sync_roster
from bot.scheduler import JobSpec, SchedulerRunner
from storage.db import session_scope
from storage.models import ChatAddress

log = logging.getLogger(__name__)


class Services:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        messenger: Messenger,
        config: BreatherConfig | None = None,
        clock: Callable[[], datetime] = utcnow,
        phones: Mapping[str, PhoneSystem] | None = None,
    ) -> None:
        assert settings.pseudonym_key is not None  # Settings refuses to exist without one
        self.settings = settings
        self.config = config or load_config(settings.config_path)
        self.product = self.config.settings
        self.engine = engine
        self.messenger = messenger
        self.clock = clock
        self.metrics = Metrics()
        self.pseudonyms = Pseudonymizer(settings.pseudonym_key.get_secret_value().encode())
        self.outbox = Outbox()
        self.events_wake = threading.Event()
        self.phones: dict[str, PhoneSystem] = dict(phones or {})
        self.breaks_wake = threading.Event()
        self.recovery = RecoveryService(
            settings=self.product,
            outbox=self.outbox,
            phones=self.phones,
            roster=lambda: self.roster,
            wake=self.breaks_wake,
        )
        self.checkins = CheckinService(
            settings=self.product, outbox=self.outbox, metrics=self.metrics, follow_up=self.recovery
        )
        self.preferences = PreferenceService(settings=self.product, outbox=self.outbox)
        self.intake = Intake(
            engine=engine,
            roster=lambda: self.roster,
            metrics=self.metrics,
            wake=self.events_wake,
            clock=clock,
        )
        self.processor = EventProcessor(
            engine=engine,
            roster=lambda: self.roster,
            checkins=self.checkins,
            wake=self.events_wake,
            clock=clock,
        )
        self.worker = OutboxWorker(
            engine=engine, messenger=messenger, metrics=self.metrics, wake=self.outbox.wake, clock=clock
        )
        self.break_worker = BreakWorker(
            engine=engine, breaks=self.recovery.breaks, wake=self.breaks_wake, clock=clock
        )
        self.scheduler = SchedulerRunner(engine, self.jobs)
        self._roster: Roster | None = None

    def jobs(self) -> list[JobSpec]:
        """Every scheduled job, with stable ids built from the configuration."""
        return [JobSpec(JobId.PURGE.value, CronTrigger(hour=3, minute=15, timezone=UTC), self.purge)]

    def purge(self) -> dict[str, int]:
        with session_scope(self.engine) as session:
            counts = purge(session, self.product, now=self.clock())
        log.info("retention purge: %s", ", ".join(f"{name} {count}" for name, count in counts.items()))
        return counts

    # --- lifecycle ----------------------------------------------------------------------

    def sync(self) -> Roster:
        """Sync breather.yml into the database and build the in-memory roster."""
        with session_scope(self.engine) as session:
            ids = sync_roster(session, self.config, self.pseudonyms, self.clock())
            roster = Roster(self.config, ids, self.pseudonyms)
            load_chat_addresses(session, roster, self.messenger.name)
        self._roster = roster
        return roster

    @property
    def roster(self) -> Roster:
        if self._roster is None:
            raise RuntimeError("Services.sync() must run before the roster is used")
        return self._roster

    # --- who is this chat user? -------------------------------------------------------------

    def agent_for_chat_user(
        self, platform: str, user_id: str, email_lookup: Callable[[str], str | None] | None = None
    ) -> RosterAgent | None:
        roster = self.roster
        agent = roster.find(f"{platform}_user_id", user_id)
        if agent is not None:
            return agent
        with session_scope(self.engine) as session:
            address = session.exec(
                select(ChatAddress).where(
                    col(ChatAddress.platform) == platform, col(ChatAddress.user_id) == user_id
                )
            ).first()
        if address is not None:
            agent = roster.by_id(address.agent_id)
        elif email_lookup is not None:
            email = email_lookup(user_id)
            agent = roster.find("email", email) if email else None
        if agent is not None:
            roster.remember(f"{platform}_user_id", user_id, agent)
        return agent

    # --- what an agent can do ---------------------------------------------------------------

    def answer_checkin(
        self,
        agent: RosterAgent,
        checkin_id: str,
        action: ActionId,
        where: Delivered,
        trigger: str | None = None,
    ) -> AnswerOutcome:
        """Record the answer; "Talk to someone" also opens the choice of person on `trigger`."""
        form = None
        with session_scope(self.engine) as session:
            outcome = self.checkins.answer(
                session, agent=agent, checkin_id=checkin_id, action=action, where=where, now=self.clock()
            )
            if trigger and CheckinAnswer.from_action(action) is CheckinAnswer.TALK:
                form = self.recovery.talk.form(session, agent=agent, checkin_id=checkin_id)
        # Now that a requested break is committed, the break worker can see it.
        self.breaks_wake.set()
        if form is not None and trigger:
            self.messenger.open_form(trigger, form)
        return outcome

    def submit_talk(self, agent: RosterAgent, checkin_id: str, choice: str) -> str | None:
        """The agent sent their choice of person; returns why it was refused, or None."""
        with session_scope(self.engine) as session:
            outcome = self.recovery.talk.submit(
                session, agent=agent, checkin_id=checkin_id, choice=choice, now=self.clock()
            )
        if outcome in (TalkOutcome.SENT, TalkOutcome.NOTHING_OFFERED):
            return None
        return catalogue(agent.team.language).t(f"recovery.talk.{outcome.value}")

    def set_paused(self, agent: RosterAgent, paused: bool) -> str:
        cat = catalogue(agent.team.language)
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = self.preferences.set_paused(session, agent, paused, now)
            if changed:
                self.preferences.refresh_home(
                    session, agent, now=now, reason=f"{'pause' if paused else 'resume'}:{now.timestamp()}"
                )
        if paused:
            return cat.t("command.paused" if changed else "command.already_paused")
        return cat.t("command.resumed" if changed else "command.already_active")

    def home_opened(self, agent: RosterAgent, event_key: str) -> None:
        with session_scope(self.engine) as session:
            self.preferences.refresh_home(session, agent, now=self.clock(), reason=f"opened:{event_key}")

    def breather_command(self, agent: RosterAgent | None, text: str) -> str:
        """`/breather <sub-command>`; returns the private reply."""
        words = text.strip().split()
        sub = words[0].lower() if words else "help"
        cat = catalogue(agent.team.language if agent else "en")
        if sub == "help":
            return cat.t("command.help")
        if sub == "privacy":
            return cat.t(
                "command.privacy",
                min_group=self.product.anonymity_min_group,
                retention_days=self.product.retention_days,
            )
        if sub == "digest":
            return cat.t("command.digest_unavailable")
        if sub in ("pause", "resume"):
            if agent is None:
                return cat.t("command.not_on_roster")
            return self.set_paused(agent, sub == "pause")
        return cat.t("command.unknown", text=text.strip()[:50])
