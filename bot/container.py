"""The composition root's wiring: every collaborator one Breather process runs, built from Settings.

Transports (Slack listeners, the Teams handler, the sandbox console) call the use cases it
holds; each is one unit of work with its own transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.away import AwaySignals, KnowsStatus
from bot.checkins.messages import ClickNotice, click_notice
from bot.checkins.policy import in_shift
from bot.checkins.service import AnswerOutcome, CheckinService
from bot.clock import utcnow
from bot.compliments.actions import ComplimentActions
from bot.compliments.service import POST_TOPIC, ComplimentService
from bot.compliments.thanks import ThanksNudges
from bot.config import BreatherConfig, Settings, load_config
from bot.delivery import Outbox, OutboxWorker, pace_for
from bot.digests.desk import DigestDesk
from bot.digests.service import DigestService
from bot.holdbacks import HoldBackNotices
from bot.home import home_view, manager_home, when_text
from bot.i18n import Catalogue, catalogue, language_choices, team_catalogue
from bot.identity import Identity
from bot.ids import PAUSE_CHOICES, ActionId, CallbackId, CheckinAnswer
from bot.intake import EventProcessor, Intake
from bot.jobs import job_table
from bot.languages import (
    DEFAULT_WORDS,
    ReaderLanguages,
    agent_catalogue,
    choose_language,
    language_from_locale,
    note_platform_locale,
)
from bot.messenger import ChatUser, Delivered, Form, Message, Messenger, Part, Text
from bot.metrics import Metrics
from bot.pairing import Pairings, week_start
from bot.preferences import end_pauses, read_prefs, set_buddy, set_pairing, set_paused, skip_pairing
from bot.recovery.buddies import BuddyAnswer
from bot.recovery.phone import PhoneSystem
from bot.recovery.service import RecoveryService
from bot.recovery.talk import TalkOutcome
from bot.recovery.worker import BreakWorker
from bot.retention import purge
from bot.roster import Roster, RosterAgent, former_agent_ids, load_chat_addresses, person_ref, sync_roster
from bot.scheduler import JobSpec, SchedulerRunner
from bot.snooze import WhenProblem, WhenRefused, parse_until
from bot.surveys.periods import next_shift_start
from bot.surveys.service import RoundCounts, RoundOutcome, Submission, SurveyService
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)

MAX_DISPATCH_BATCHES = 100  # 20,000 invitations a minute; anything beyond waits for the next run
_CLICK_NOTICES = {
    AnswerOutcome.ALREADY: "checkin.already_answered",
    AnswerOutcome.NOT_YOURS: "checkin.not_yours",
    AnswerOutcome.UNKNOWN: "checkin.expired",  # deleted by retention, or never ours
}


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
            on_sent={POST_TOPIC: compliments.record_post},
        )
        self.break_worker = BreakWorker(
            engine=engine, breaks=self.recovery.breaks, wake=self.breaks_wake, clock=clock
        )
        self.scheduler = SchedulerRunner(engine, self.jobs)
        self._roster: Roster | None = None

    def jobs(self) -> list[JobSpec]:
        return job_table(self)

    def purge(self) -> dict[str, int]:
        with session_scope(self.engine) as session:
            counts = purge(session, self.product, now=self.clock())
            counts.update(self.compliments.service.purge(session, now=self.clock()))
        log.info("retention purge: %s", ", ".join(f"{name} {count}" for name, count in counts.items()))
        return counts

    # --- lifecycle ----------------------------------------------------------------------

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

    # --- what an agent can do ---------------------------------------------------------------

    def answer_checkin(
        self,
        agent: RosterAgent | None,
        checkin_id: str,
        action: ActionId,
        where: Delivered,
        trigger: str | None = None,
    ) -> ClickNotice | None:
        """Record the answer; "Talk to someone" also opens the choice of person on `trigger`.

        A click that records nothing (answered already, someone else's check-in, one that no
        longer exists; `agent` None is someone not on the roster) returns what to tell only the
        person who clicked, since the check-in message itself does not change.
        """
        if agent is None:
            return click_notice(catalogue("en"), "checkin.not_yours")
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
            return None  # "Talk to someone" again on an answered check-in reopens the choice
        if outcome is AnswerOutcome.RECORDED:
            return None
        return click_notice(self.catalogue_for(agent), _CLICK_NOTICES[outcome])

    def submit_talk(self, agent: RosterAgent, checkin_id: str, choice: str) -> str | None:
        """The agent sent their choice of person; returns why it was refused, or None."""
        with session_scope(self.engine) as session:
            outcome = self.recovery.talk.submit(
                session, agent=agent, checkin_id=checkin_id, choice=choice, now=self.clock()
            )
        if outcome in (TalkOutcome.SENT, TalkOutcome.NOTHING_OFFERED):
            return None
        return self.catalogue_for(agent).t(f"recovery.talk.{outcome.value}")

    def _refresh_home(
        self, session: Session, agent: RosterAgent, *, reason: str, extra: list[Part] | None = None
    ) -> None:
        prefs = read_prefs(session, agent, self.clock())
        view = home_view(
            agent_catalogue(session, agent),
            self.product,
            paused=prefs.paused,
            paused_until=prefs.paused_until,
            surveys_on=prefs.surveys_on,
            buddy=prefs.buddy,
            pairing=prefs.pairing if agent.team.pairing is not None else None,
            results=self.surveys.own_results(session, agent=agent),
            zone=agent.zone,
            lead_parts=extra or [],
        )
        self.outbox.publish_home(
            session, key=f"home:{agent.id}:{reason}", to=agent.ref(), view=view, now=self.clock()
        )

    def pause(self, agent: RosterAgent, words: str = "", *, away: bool = False) -> str:
        """`/breather pause [for 2 hours | until Monday | until 2026-12-28]`, or `away until …`
        (time off: the same quiet, worded for a holiday); returns the private reply."""
        cat = self.catalogue_for(agent)
        now = self.clock()
        if away and not words.strip():
            return cat.t("command.away_needs_date")
        try:
            until = parse_until(words, now=now, zone=agent.zone, max_days=self.product.pause_max_days)
        except WhenRefused as refused:
            if refused.problem is WhenProblem.TOO_FAR:
                return cat.t("command.when_too_far", count=self.product.pause_max_days)
            return cat.t(f"command.when_{refused.problem.value}", text=" ".join(words.split())[:60])
        if until is None:
            return self.set_paused(agent, True)
        with session_scope(self.engine) as session:
            if set_paused(session, agent, True, now, until):
                self._refresh_home(session, agent, reason=f"pause:{now.timestamp()}")
        when = when_text(cat, until, agent.zone)
        return cat.t("command.away" if away else "command.paused_until", when=when)

    def pause_from_home(self, agent: RosterAgent, action: ActionId) -> str:
        """A pause button on the App Home (or the Teams home card)."""
        if action is ActionId.HOME_RESUME:
            return self.set_paused(agent, False)
        return self.pause(agent, PAUSE_CHOICES.get(action, ""))

    def end_pauses(self) -> int:
        """Pauses whose end has come are over; each agent is told once, kindly, inside their
        shift (a pause "until Monday" ends at midnight, the note waits for the morning)."""
        now = self.clock()
        with session_scope(self.engine) as session:
            ended = end_pauses(session, now)
            for pseudonym, until in ended:
                agent = self.roster.by_pseudonym(pseudonym)
                if agent is None:
                    continue
                text = agent_catalogue(session, agent).t("command.pause_over")
                on_shift = in_shift(agent.shift, agent.zone, now, timedelta(0), agent.day_off)
                self.outbox.send_direct(
                    session,
                    key=f"pause-over:{agent.id}:{until.timestamp()}",
                    to=agent.ref(),
                    message=Message(text=text, parts=(Text(text=text),)),
                    now=now,
                    topic="pause",
                    not_before=(
                        None if on_shift else next_shift_start(agent.shift, agent.zone, now, agent.day_off)
                    ),
                )
                self._refresh_home(session, agent, reason=f"pause-over:{until.timestamp()}")
        return len(ended)

    def set_paused(self, agent: RosterAgent, paused: bool) -> str:
        """Pause (until resumed) or resume check-ins; resuming also turns pulse check-ins back on."""
        now = self.clock()
        with session_scope(self.engine) as session:
            cat = agent_catalogue(session, agent)
            changed = set_paused(session, agent, paused, now)
            if not paused:
                changed = self.surveys.opt_in(session, agent=agent, now=now) or changed
            if changed:
                self._refresh_home(
                    session, agent, reason=f"{'pause' if paused else 'resume'}:{now.timestamp()}"
                )
        if paused:
            return cat.t("command.paused" if changed else "command.already_paused")
        return cat.t("command.resumed" if changed else "command.already_active")

    def catalogue_for(self, agent: RosterAgent) -> Catalogue:
        """The agent's own language (see bot/languages.py)."""
        with read_scope(self.engine) as session:
            return agent_catalogue(session, agent)

    def set_language(self, agent: RosterAgent, language: str | None) -> str:
        """The agent chose a language (None: back to the default); the reply is in the new one."""
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = choose_language(session, agent, language, now)
            cat = agent_catalogue(session, agent)
        if changed:
            # An agent who leads a team reads its digest in the same language: drawn again too.
            lead_parts = self.digest_desk.home_parts(agent.email)
            with session_scope(self.engine) as session:
                self._refresh_home(
                    session, agent, reason=f"language:{language}:{now.timestamp()}", extra=lead_parts
                )
        if not changed:
            return cat.t("command.language.same")
        return cat.t("command.language.chosen" if language else "command.language.default")

    def note_platform_locale(self, agent: RosterAgent, locale: str | None) -> None:
        """The chat platform told us the person's locale (Slack's user locale, a Teams activity's)."""
        if language_from_locale(locale) is None:
            return
        now = self.clock()
        with session_scope(self.engine) as session:
            if note_platform_locale(session, agent, locale, now):
                self._refresh_home(session, agent, reason=f"locale:{locale}:{now.timestamp()}")

    def lead_catalogue(self, email: str | None) -> Catalogue | None:
        """The language of a lead or admin who is not an agent (None: they are neither), dated
        in the calendar of the first team they read."""
        led = self.identity.readable_teams(email)
        if not led or email is None:
            return None
        with read_scope(self.engine) as session:
            return self.readers.catalogue(session, email, led[0])

    def set_lead_language(self, email: str, language: str | None, chat_user: ChatUser | None = None) -> str:
        """A lead who is not an agent chose a language (None: back to the default): kept in
        `lead_prefs`; their Home tab is drawn again and the reply is in the new language."""
        led = self.identity.readable_teams(email)
        if not led:
            return catalogue("en").t("command.not_on_roster")
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = self.readers.choose(session, email, language, now)
            cat = self.readers.catalogue(session, email, led[0])
        if changed:
            self._publish_manager_home(email, f"language:{language}:{now.timestamp()}", chat_user)
        if not changed:
            return cat.t("command.language.same")
        return cat.t("command.language.chosen" if language else "command.language.default")

    def note_lead_locale(self, email: str | None, locale: str | None) -> None:
        """The chat platform's locale of someone who reads digests but is not an agent; nothing
        is stored for anybody else."""
        if language_from_locale(locale) is None or not self.identity.readable_teams(email):
            return
        assert email is not None
        with session_scope(self.engine) as session:
            self.readers.note_locale(session, email, locale, self.clock())

    def _language_command(
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
            return self.set_language(agent, language)
        assert lead is not None
        return self.set_lead_language(lead, language)

    def set_buddy(self, agent: RosterAgent, on: bool) -> str:
        """Offer (or stop offering) to be a buddy for the team; returns the private reply."""
        cat = self.catalogue_for(agent)
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = set_buddy(session, agent, on, now)
            if changed:
                self._refresh_home(session, agent, reason=f"buddy:{on}:{now.timestamp()}")
        if on:
            return cat.t("buddy.on" if changed else "buddy.already_on")
        return cat.t("buddy.off" if changed else "buddy.already_off")

    def answer_buddy(
        self, agent: RosterAgent | None, ask_id: str, free: bool, where: Delivered
    ) -> ClickNotice | None:
        """A buddy's "I'm free now" / "Can't right now"; a click that records nothing is told so."""
        if agent is None:
            return click_notice(catalogue("en"), "checkin.not_yours")
        with session_scope(self.engine) as session:
            outcome = self.recovery.talk.buddies.answer(
                session, buddy=agent, ask_id=ask_id, free=free, where=where, now=self.clock()
            )
        if outcome is BuddyAnswer.RECORDED:
            return None
        key = {BuddyAnswer.ALREADY: "buddy.already_answered", BuddyAnswer.NOT_YOURS: "checkin.not_yours"}
        return click_notice(self.catalogue_for(agent), key.get(outcome, "checkin.expired"))

    def nudge_thanks(self, team_id: str) -> int:
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

    def set_thanks_nudges(self, email: str | None, on: bool) -> str:
        leads = self.identity.teams_led(email)
        cat = self.lead_catalogue(email) or catalogue("en")
        if not leads or email is None:
            return cat.t("thanks.not_lead")
        with session_scope(self.engine) as session:
            self.thanks.set_nudges(session, email, on, self.clock())
        return cat.t("thanks.on" if on else "thanks.off")

    def pair_team(self, team_id: str) -> int:
        """This week's coffee pairs for a team (once a week); how many people were paired."""
        team = self.config.team(team_id)
        with session_scope(self.engine) as session:
            return self.pairings.pair_team(session, team=team, roster=self.roster, now=self.clock())

    def set_pairing(self, agent: RosterAgent, on: bool) -> str:
        cat = self.catalogue_for(agent)
        if agent.team.pairing is None:
            return cat.t("pairing.not_on")
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = set_pairing(session, agent, on, now)
            if changed:
                self._refresh_home(session, agent, reason=f"pairing:{on}:{now.timestamp()}")
        return cat.t("pairing.joined" if on else "pairing.left")

    def skip_pairing(self, agent: RosterAgent) -> str:
        """Skip the next coffee pairing: this week's if it has not been made yet, else next week's."""
        cat = self.catalogue_for(agent)
        if agent.team.pairing is None:
            return cat.t("pairing.not_on")
        now = self.clock()
        week = week_start(agent.team, now)
        with session_scope(self.engine) as session:
            if self.pairings.made(session, agent.team, week):
                week += timedelta(days=7)
            skip_pairing(session, agent, week, now)
        return cat.t("pairing.skipped")

    def notice(self, agent: RosterAgent, text: str) -> Form:
        """A small read-only window with one line, for the person who clicked."""
        return Services.line_notice(text, self.catalogue_for(agent))

    @staticmethod
    def line_notice(text: str, cat: Catalogue | None = None) -> Form:
        cat = cat or catalogue("en")
        return Form(
            callback_id=CallbackId.CHECKIN_NOTICE.value,
            title=cat.t("checkin.notice.title"),
            submit=None,
            close=cat.t("checkin.notice.close"),
            parts=(Text(text=text),),
        )

    def set_surveys(self, agent: RosterAgent, on: bool) -> None:
        now = self.clock()
        with session_scope(self.engine) as session:
            if on:
                self.surveys.opt_in(session, agent=agent, now=now)
            else:
                self.surveys.opt_out(session, agent=agent, invitation_id=None, where=None, now=now)
            self._refresh_home(session, agent, reason=f"surveys:{on}:{now.timestamp()}")

    def home_opened(
        self,
        agent: RosterAgent | None,
        event_key: str,
        *,
        email: str | None = None,
        chat_user: ChatUser | None = None,
    ) -> None:
        """Publish the person's Home tab: their own page if they are an agent, plus the Manager
        section with their teams' digests if they lead a team."""
        if agent is None:
            if email:
                self._publish_manager_home(email, f"opened:{event_key}", chat_user)
            return
        lead_parts = self.digest_desk.home_parts(email or agent.email)
        with session_scope(self.engine) as session:
            self._refresh_home(session, agent, reason=f"opened:{event_key}", extra=lead_parts)

    def _publish_manager_home(self, email: str, reason: str, chat_user: ChatUser | None = None) -> None:
        """The Home tab of a lead who is not an agent: the Manager section and their language."""
        lead_parts = self.digest_desk.home_parts(email)
        if not lead_parts:
            return
        led = self.identity.readable_teams(email)
        with session_scope(self.engine) as session:
            view = manager_home(self.readers.catalogue(session, email, led[0]), lead_parts)
            self.outbox.publish_home(
                session,
                key=f"home:{email}:{reason}",
                to=person_ref(self.keyring, email, chat_user),
                view=view,
                now=self.clock(),
            )

    # --- pulse surveys ---------------------------------------------------------------------

    def start_survey_round(self, team_id: str) -> RoundOutcome:
        """Open this period's round for a team now (idempotent), then invite whoever may be asked now."""
        team = self.config.team(team_id)
        agents = [agent for agent in self.roster.agents() if agent.team.id == team.id]
        with session_scope(self.engine) as session:
            outcome = self.surveys.start_round(session, team=team, agents=agents, now=self.clock())
        self.dispatch_surveys()
        return outcome

    def survey_round_counts(self, round_id: str) -> RoundCounts:
        with read_scope(self.engine) as session:
            return self.surveys.counts(session, round_id)

    def scheduled_survey_round(self, team_id: str) -> None:
        if self.surveys.due_now(self.config.team(team_id), self.clock()):
            outcome = self.start_survey_round(team_id)
            log.info("pulse round for team %s: %s", team_id, "opened" if outcome.created else "already open")

    def dispatch_surveys(self) -> int:
        """Queue every invitation and reminder due now, a batch per transaction: a round for
        thousands of agents goes out at the outbox's pace, never holding the database for long."""
        queued = 0
        for _ in range(MAX_DISPATCH_BATCHES):
            with session_scope(self.engine) as session:
                batch = self.surveys.dispatch(session, roster=self.roster, now=self.clock())
            queued += batch.queued
            if not batch.more:
                break
        return queued

    def open_survey(self, agent: RosterAgent, invitation_id: str, where: Delivered) -> Form | None:
        with session_scope(self.engine) as session:
            return self.surveys.form_for(
                session, agent=agent, invitation_id=invitation_id, where=where, now=self.clock()
            )

    def submit_survey(self, agent: RosterAgent, context: str, values: dict[str, str]) -> Submission:
        with session_scope(self.engine) as session:
            submission = self.surveys.submit(
                session, agent=agent, context=context, values=values, now=self.clock()
            )
            if not submission.errors:
                self._refresh_home(session, agent, reason=f"answered:{context}")
            return submission

    def skip_survey(self, agent: RosterAgent, invitation_id: str, where: Delivered) -> None:
        with session_scope(self.engine) as session:
            self.surveys.skip(
                session, agent=agent, invitation_id=invitation_id, where=where, now=self.clock()
            )

    def opt_out_of_surveys(self, agent: RosterAgent, invitation_id: str, where: Delivered) -> None:
        with session_scope(self.engine) as session:
            self.surveys.opt_out(
                session, agent=agent, invitation_id=invitation_id, where=where, now=self.clock()
            )
            self._refresh_home(session, agent, reason=f"opt-out:{invitation_id}")

    def unexpected_error(self, agent: RosterAgent | None, reference: str) -> str:
        """What to tell someone whose click or command failed, in their language; an agent
        also gets it as a DM, since an interaction's answer after its ack shows nothing."""
        text = (team_catalogue(agent.team) if agent else catalogue("en")).t(
            "error.unexpected", reference=reference
        )
        if agent is not None:
            try:
                with session_scope(self.engine) as session:
                    self.outbox.send_direct(
                        session,
                        key=f"failure:{reference}",
                        to=agent.ref(),
                        message=Message(text=text, parts=(Text(text=text),)),
                        now=self.clock(),
                        topic="failure",
                    )
            except Exception as error:  # the database may be what failed: the log has the reference
                log.warning("could not tell the agent about failure %s: %s", reference, type(error).__name__)
        return text

    def breather_command(
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
        cat = self.catalogue_for(agent) if agent else (self.lead_catalogue(who) or catalogue("en"))
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
                self.set_thanks_nudges(who, choice == "on")
                if choice in ("on", "off")
                else cat.t("thanks.usage")
            )
        elif sub == "language":
            reply = self._language_command(agent, cat, words[1] if len(words) > 1 else None, email=who)
        elif sub in ("pairing", "coffee") and agent is not None:
            choice = words[1].lower() if len(words) > 1 else ""
            if choice in ("on", "off"):
                reply = self.set_pairing(agent, choice == "on")
            else:
                reply = self.skip_pairing(agent) if choice == "skip" else cat.t("pairing.usage")
        elif sub == "buddy" and agent is not None:
            choice = words[1].lower() if len(words) > 1 else ""
            reply = self.set_buddy(agent, choice == "on") if choice in ("on", "off") else cat.t("buddy.usage")
        elif sub in ("pause", "resume", "away"):
            if agent is not None and sub == "resume":
                reply = self.set_paused(agent, False)
            elif agent is not None:
                reply = self.pause(agent, " ".join(words[1:]), away=sub == "away")
            elif self.identity.readable_teams(email):
                # A team lead (or an admin) who is not an agent gets no check-ins to pause.
                reply = cat.t("command.lead_not_agent")
            else:
                reply = cat.t("command.not_on_roster")
        else:
            reply = cat.t("command.unknown", text=text.strip()[:50])
        return Message(text=reply, parts=(Text(text=reply),))
