"""What an agent does on their own page and with their preferences: pause, resume and time
away, language, buddy and coffee pairing, pulse check-ins on or off; and the page itself,
republished after each change (the Slack App Home, the Teams home card)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy import Engine, event
from sqlmodel import Session

from bot.checkins.policy import in_shift
from bot.config import BreatherConfig, ProductSettings
from bot.delivery import Outbox
from bot.digests.desk import DigestDesk
from bot.home.preferences import end_pauses, read_prefs, set_buddy, set_pairing, set_paused, skip_pairing
from bot.home.views import home_view, manager_home, when_text
from bot.i18n import Catalogue, catalogue
from bot.identity import Identity
from bot.ids import PAUSE_CHOICES, ActionId
from bot.languages import (
    ReaderLanguages,
    agent_catalogue,
    catalogue_for,
    choose_language,
    language_from_locale,
    note_platform_locale,
)
from bot.messenger import ChatUser, Message, Part, Text
from bot.outbox_keys import Topic
from bot.pairing import Pairings, week_start
from bot.pseudonyms import Keyring
from bot.roster import Roster, RosterAgent, person_ref
from bot.snooze import WhenProblem, WhenRefused, parse_until
from bot.surveys.periods import next_shift_start
from bot.surveys.service import SurveyService
from storage.db import read_scope, session_scope

log = logging.getLogger(__name__)


class HomeActions:
    def __init__(
        self,
        *,
        engine: Engine,
        config: BreatherConfig,
        outbox: Outbox,
        surveys: SurveyService,
        digest_desk: DigestDesk,
        pairings: Pairings,
        identity: Identity,
        readers: ReaderLanguages,
        keyring: Keyring,
        roster: Callable[[], Roster],
        clock: Callable[[], datetime],
    ) -> None:
        self.engine = engine
        self.config = config
        self.product: ProductSettings = config.settings
        self.outbox = outbox
        self.surveys = surveys
        self.digest_desk = digest_desk
        self.pairings = pairings
        self.identity = identity
        self.readers = readers
        self.keyring = keyring
        self.roster = roster
        self.clock = clock
        self._redraws = ThreadPoolExecutor(max_workers=1, thread_name_prefix="home-redraw")

    def refresh(
        self, session: Session, agent: RosterAgent, *, reason: str, extra: list[Part] | None = None
    ) -> None:
        """Publish the agent's Home tab again. An agent who leads a team (or administers) gets
        the Manager section on every redraw (`extra`, when the caller already drew it): the
        published view replaces the whole tab, so leaving it out would hide it until reopened."""
        if extra is None and self.identity.readable_teams(agent.email):
            # The Manager section means computing each led team's digest: too slow for a slash
            # command's 3 s answer. The whole tab is drawn after this transaction commits (and
            # never if it rolls back), in its own session on the redraw thread.
            event.listen(
                session,
                "after_commit",
                lambda _: self._redraw_later(agent, reason),
                once=True,
            )
            return
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

    def finish_redraws(self) -> None:
        """At shutdown: the Home tabs already asked for are drawn (and queued in the outbox)
        before the workers and the database close; none is started after."""
        self._redraws.shutdown(wait=True)

    def _redraw_later(self, agent: RosterAgent, reason: str) -> None:
        try:
            self._redraws.submit(self._redraw, agent, reason)
        except RuntimeError:  # shutting down: the tab is drawn again when next opened
            log.info("not redrawing a Home tab: Breather is stopping")

    def _redraw(self, agent: RosterAgent, reason: str) -> None:
        try:
            with session_scope(self.engine) as session:
                self.refresh(session, agent, reason=reason, extra=self.manager_parts(session, agent))
        except Exception:
            log.exception("could not redraw a lead's Home tab")

    def manager_parts(self, session: Session, agent: RosterAgent) -> list[Part]:
        """The Manager section for an agent who may read teams' digests, else nothing."""
        if not self.identity.readable_teams(agent.email):
            return []
        return self.digest_desk.home_parts(agent.email, session)

    def catalogue_for(self, agent: RosterAgent) -> Catalogue:
        """The agent's own language (see bot/languages.py)."""
        return catalogue_for(self.engine, agent)

    def pause(self, agent: RosterAgent, words: str = "", *, away: bool = False) -> str:
        """`/breather pause [for 2 hours | until Monday | until 2026-12-28]`, or `away until …`
        (time off: the same quiet, worded for a holiday); returns the private reply."""
        cat = catalogue_for(self.engine, agent)
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
                self.refresh(session, agent, reason=f"pause:{now.timestamp()}")
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
                agent = self.roster().by_pseudonym(pseudonym)
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
                    topic=Topic.PAUSE,
                    not_before=(
                        None if on_shift else next_shift_start(agent.shift, agent.zone, now, agent.day_off)
                    ),
                )
                self.refresh(session, agent, reason=f"pause-over:{until.timestamp()}")
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
                self.refresh(session, agent, reason=f"{'pause' if paused else 'resume'}:{now.timestamp()}")
        if paused:
            return cat.t("command.paused" if changed else "command.already_paused")
        return cat.t("command.resumed" if changed else "command.already_active")

    def set_language(self, agent: RosterAgent, language: str | None) -> str:
        """The agent chose a language (None: back to the default); the reply is in the new one."""
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = choose_language(session, agent, language, now)
            cat = agent_catalogue(session, agent)
            if changed:
                self.refresh(session, agent, reason=f"language:{language}:{now.timestamp()}")
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
                self.refresh(session, agent, reason=f"locale:{locale}:{now.timestamp()}")

    def set_buddy(self, agent: RosterAgent, on: bool) -> str:
        """Offer (or stop offering) to be a buddy for the team; returns the private reply."""
        cat = catalogue_for(self.engine, agent)
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = set_buddy(session, agent, on, now)
            if changed:
                self.refresh(session, agent, reason=f"buddy:{on}:{now.timestamp()}")
        if on:
            return cat.t("buddy.on" if changed else "buddy.already_on")
        return cat.t("buddy.off" if changed else "buddy.already_off")

    def set_surveys(self, agent: RosterAgent, on: bool) -> None:
        now = self.clock()
        with session_scope(self.engine) as session:
            if on:
                self.surveys.opt_in(session, agent=agent, now=now)
            else:
                self.surveys.opt_out(session, agent=agent, invitation_id=None, where=None, now=now)
            self.refresh(session, agent, reason=f"surveys:{on}:{now.timestamp()}")

    def set_pairing(self, agent: RosterAgent, on: bool) -> str:
        cat = catalogue_for(self.engine, agent)
        if agent.team.pairing is None:
            return cat.t("pairing.not_on")
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = set_pairing(session, agent, on, now)
            if changed:
                self.refresh(session, agent, reason=f"pairing:{on}:{now.timestamp()}")
        return cat.t("pairing.joined" if on else "pairing.left")

    def skip_pairing(self, agent: RosterAgent) -> str:
        """Skip the next coffee pairing: this week's if it has not been made yet, else next week's."""
        cat = catalogue_for(self.engine, agent)
        if agent.team.pairing is None:
            return cat.t("pairing.not_on")
        now = self.clock()
        week = week_start(agent.team, now)
        with session_scope(self.engine) as session:
            if self.pairings.made(session, agent.team, week):
                week += timedelta(days=7)
            skip_pairing(session, agent, week, now)
        return cat.t("pairing.skipped")

    def pair_team(self, team_id: str) -> int:
        """This week's coffee pairs for a team (once a week); how many people were paired."""
        team = self.config.team(team_id)
        with session_scope(self.engine) as session:
            return self.pairings.pair_team(session, team=team, roster=self.roster(), now=self.clock())

    def opened(
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
        with session_scope(self.engine) as session:
            self.refresh(session, agent, reason=f"opened:{event_key}")

    # --- a lead who is not an agent: their language and their Manager view ------------------

    def lead_catalogue(self, email: str | None) -> Catalogue | None:
        """The language of a lead or admin who is not an agent (None: they are neither), dated
        in the calendar of the first team they read."""
        led = self.identity.readable_teams(email)
        if not led or email is None:
            return None
        with read_scope(self.engine) as session:
            return self.readers.catalogue(session, email, led[0])

    def set_lead_language(
        self, email: str, language: str | None, chat_user: ChatUser | None = None, *, redraw: bool = True
    ) -> str:
        """A lead who is not an agent chose a language (None: back to the default): kept in
        `lead_prefs`; the reply is in the new language. Their Home tab is drawn again unless
        `redraw` is off (a command, whose reply is its ack: the Home tab follows when it opens)."""
        led = self.identity.readable_teams(email)
        if not led:
            return catalogue("en").t("command.not_on_roster")
        now = self.clock()
        with session_scope(self.engine) as session:
            changed = self.readers.choose(session, email, language, now)
            cat = self.readers.catalogue(session, email, led[0])
        if changed and redraw:
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
        with read_scope(self.engine) as session:
            if self.readers.knows_locale(session, email, locale):
                return  # every Teams activity says it again: no write, no lock
        with session_scope(self.engine) as session:
            self.readers.note_locale(session, email, locale, self.clock())

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
