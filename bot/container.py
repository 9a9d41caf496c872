"""The composition root's wiring: every collaborator one Breather process runs, built from Settings.

Transports (Slack listeners, the Teams handler, the sandbox console) call the use cases it
holds; each is one unit of work with its own transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import Engine

from bot.away import AwaySignals, KnowsStatus
from bot.checkins.actions import CheckinActions
from bot.checkins.service import CheckinService
from bot.clock import utcnow
from bot.commands import Commands
from bot.compliments.actions import ComplimentActions
from bot.compliments.service import ComplimentService
from bot.compliments.thanks import ThanksNudges
from bot.compliments.thanks_actions import ThanksActions
from bot.config import BreatherConfig, Settings, load_config
from bot.delivery import Outbox, OutboxWorker, pace_for
from bot.digests.desk import DigestDesk
from bot.digests.service import DigestService
from bot.holdbacks import HoldBackNotices
from bot.home.actions import HomeActions
from bot.identity import Identity
from bot.intake import EventProcessor, Intake
from bot.interactions import Interactions
from bot.jobs import job_table
from bot.languages import ReaderLanguages
from bot.messenger import Messenger
from bot.metrics import Metrics
from bot.outbox_keys import Topic
from bot.pairing import Pairings
from bot.recovery.actions import RecoveryActions
from bot.recovery.phone import PhoneSystem
from bot.recovery.service import RecoveryService
from bot.recovery.worker import BreakWorker
from bot.retention import Retention
from bot.roster import Roster, former_agent_ids, load_chat_addresses, sync_roster
from bot.scheduler import JobSpec, SchedulerRunner
from bot.surveys.actions import SurveyActions
from bot.surveys.service import SurveyService
from storage.db import session_scope

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
        self.keyring = settings.keyring()
        self.outbox = Outbox(self.keyring)
        self.events_wake = threading.Event()
        self.phones: dict[str, PhoneSystem] = dict(phones or {})
        self.breaks_wake = threading.Event()
        # The language of each person written to as a lead or admin (bot/languages.py).
        self.readers = ReaderLanguages(self.keyring, lambda email: self.roster.find("email", email))
        # The chat platform's own out-of-office status, on platforms that can tell (bot/away.py).
        self.away = AwaySignals(
            messenger if isinstance(messenger, KnowsStatus) else None, emoji=self.product.away_status_emoji
        )
        self.recovery = RecoveryService(
            settings=self.product,
            outbox=self.outbox,
            phones=self.phones,
            roster=lambda: self.roster,
            wake=self.breaks_wake,
            readers=self.readers,
            away=self.away,
        )
        # Why something was held back for an agent: nobody listens in production; the demo's console
        # tells the person viewing as that agent.
        self.hold_backs = HoldBackNotices()
        self.checkins = CheckinService(
            settings=self.product,
            outbox=self.outbox,
            metrics=self.metrics,
            follow_up=self.recovery,
            held_back=self.hold_backs,
            away=self.away,
        )
        self.identity = Identity(engine, lambda: self.roster, self.config.teams, self.product.admins)
        self.pairings = Pairings(outbox=self.outbox)
        self.thanks = ThanksNudges(
            outbox=self.outbox, keyring=self.keyring, roster=lambda: self.roster, readers=self.readers
        )
        self.surveys = SurveyService(
            settings=self.product, outbox=self.outbox, held_back=self.hold_backs, away=self.away
        )
        self.digests = DigestService(
            settings=self.product,
            people=lambda: self.roster.people,
            readers=lambda team: self.roster.readers_of(team, self.product.admins),
        )
        self.digest_desk = DigestDesk(
            engine=engine,
            config=self.config,
            digests=self.digests,
            outbox=self.outbox,
            keyring=self.keyring,
            clock=clock,
            readers=self.readers,
        )
        compliments = ComplimentService(
            settings=self.product, outbox=self.outbox, keyring=self.keyring, roster=lambda: self.roster
        )
        self.compliments = ComplimentActions(
            engine=engine,
            service=compliments,
            roster=lambda: self.roster,
            find_agent=lambda user_id: self.identity.agent(messenger.name, user_id, messenger.email_of),
            messenger=messenger,
            keyring=self.keyring,
            clock=clock,
            readers=self.readers,
        )
        self.intake = Intake(
            engine=engine,
            roster=lambda: self.roster,
            metrics=self.metrics,
            wake=self.events_wake,
            keyring=self.keyring,
            clock=clock,
            redact=compliments.redact,
            read_ahead=self.checkins.read_ahead,
        )
        self.processor = EventProcessor(
            engine=engine,
            roster=lambda: self.roster,
            checkins=self.checkins,
            wake=self.events_wake,
            keyring=self.keyring,
            clock=clock,
            on_feedback=compliments.on_feedback,
        )
        self.worker = OutboxWorker(
            engine=engine,
            messenger=messenger,
            metrics=self.metrics,
            wake=self.outbox.wake,
            pace_s=pace_for(messenger, settings.send_pace_seconds),
            clock=clock,
            on_sent={Topic.COMPLIMENT_POST: compliments.record_post},
        )
        self.break_worker = BreakWorker(
            engine=engine, breaks=self.recovery.breaks, wake=self.breaks_wake, clock=clock
        )
        # The use cases transports and the scheduler call, one object per feature.
        roster = self._live_roster
        self.home = HomeActions(
            engine=engine,
            config=self.config,
            outbox=self.outbox,
            surveys=self.surveys,
            digest_desk=self.digest_desk,
            pairings=self.pairings,
            identity=self.identity,
            readers=self.readers,
            keyring=self.keyring,
            roster=roster,
            clock=clock,
        )
        self.checkin_actions = CheckinActions(
            engine=engine,
            checkins=self.checkins,
            recovery=self.recovery,
            messenger=messenger,
            breaks_wake=self.breaks_wake,
            clock=clock,
        )
        self.recovery_actions = RecoveryActions(engine=engine, recovery=self.recovery, clock=clock)
        self.survey_actions = SurveyActions(
            engine=engine,
            config=self.config,
            service=self.surveys,
            home=self.home,
            roster=roster,
            clock=clock,
        )
        self.thanks_actions = ThanksActions(
            engine=engine,
            config=self.config,
            thanks=self.thanks,
            identity=self.identity,
            lead_catalogue=self.home.lead_catalogue,
            clock=clock,
        )
        self.commands = Commands(
            engine=engine,
            config=self.config,
            identity=self.identity,
            home=self.home,
            thanks=self.thanks_actions,
            digest_desk=self.digest_desk,
            outbox=self.outbox,
            clock=clock,
        )
        self.interactions = Interactions(
            checkins=self.checkin_actions,
            recovery=self.recovery_actions,
            surveys=self.survey_actions,
            home=self.home,
            compliments=self.compliments,
            thanks=self.thanks_actions,
            identity=self.identity,
            messenger=messenger,
        )
        self.retention = Retention(
            engine, self.product, clock, also=(lambda session, now: compliments.purge(session, now=now),)
        )
        self.scheduler = SchedulerRunner(engine, self.jobs)
        self._roster: Roster | None = None

    def jobs(self) -> list[JobSpec]:
        return job_table(self)

    def sync(self) -> Roster:
        """Sync breather.yml into the database and build the in-memory roster."""
        with session_scope(self.engine) as session:
            ids = sync_roster(session, self.config, self.keyring, self.clock())
            roster = Roster(self.config, ids, self.keyring, former_agent_ids(session, ids))
            load_chat_addresses(session, roster, self.messenger.name)
        self._roster = roster
        return roster

    @property
    def roster(self) -> Roster:
        if self._roster is None:
            raise RuntimeError("Services.sync() must run before the roster is used")
        return self._roster

    def _live_roster(self) -> Roster:
        return self.roster
