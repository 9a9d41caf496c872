"""Pulse-survey rounds: open one per team and period, invite at sane times, remind once,
take answers from the modal, and show each agent their own results.

Methods take a session and never commit (the caller owns the unit of work).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.away import AwaySignals
from bot.checkins.policy import in_shift
from bot.checkins.service import find_prefs, is_paused, lock_prefs
from bot.config import ProductSettings, TeamConfig
from bot.delivery import Outbox
from bot.errors import NotFound
from bot.holdbacks import HeldBack
from bot.i18n import Catalogue
from bot.languages import agent_catalogue
from bot.messenger import AgentRef, Delivered, Form, Message
from bot.outbox_keys import Topic
from bot.roster import Roster, RosterAgent
from bot.surveys import messages
from bot.surveys.instruments import INSTRUMENTS, InstrumentId
from bot.surveys.periods import is_first_week_of_period, next_shift_start, period_start
from storage.models import Checkin, InvitationState, SurveyAnswer, SurveyInvitation, SurveyRound
from storage.upsert import insert_ignore

log = logging.getLogger(__name__)

FATIGUE_WINDOW = timedelta(days=7)  # at most one invitation per agent per week
PAUSED_RETRY = timedelta(hours=1)
AWAY_LOOKUPS = "surveys.away_lookups"  # session.info: people whose status a batch waits for
# What _hold_back says when it cannot tell without asking the platform (compared by identity).
LOOK_UP_FIRST = HeldBack("", "survey", "status_unknown", datetime.min)


def _reminder_delay(team: TeamConfig) -> timedelta:
    # A team whose pulse: block was removed mid-round gets no reminder (see _remind).
    return timedelta(hours=team.pulse.reminder_after_hours) if team.pulse else timedelta(0)


@dataclass(frozen=True)
class Dispatched:
    queued: int  # messages queued in the outbox
    more: bool  # a batch was full, or waits for lookups: call again for the rest
    # People whose out-of-office status must be read (after the commit, `look_up`) before
    # their invitation or reminder is decided; those rows were left untouched, still due.
    to_look_up: tuple[AgentRef, ...] = ()


@dataclass(frozen=True)
class RoundOutcome:
    round: SurveyRound
    created: bool


@dataclass(frozen=True)
class RoundCounts:
    """How far a round got: invitations sent, and the rest (not yet, or not at all: off shift,
    paused, just after a check-in, opted out). Counts only; never who."""

    in_round: int
    invited: int

    @property
    def held_back(self) -> int:
        return self.in_round - self.invited


@dataclass(frozen=True)
class Submission:
    """Field errors to show in the modal, or the thank-you to replace it with."""

    errors: dict[str, str]
    thanks: Form | None = None


@dataclass(frozen=True)
class OwnResult:
    instrument: InstrumentId
    score: float
    flagged: bool
    submitted_at: datetime


def encode_context(invitation_id: str, where: Delivered) -> str:
    return f"{invitation_id}|{where.channel}|{where.ts}"


def decode_context(context: str) -> tuple[str, Delivered | None]:
    parts = context.split("|")
    if len(parts) == 3 and all(parts):
        return parts[0], Delivered(channel=parts[1], ts=parts[2])
    return parts[0], None


class SurveyService:
    def __init__(
        self,
        *,
        settings: ProductSettings,
        outbox: Outbox,
        held_back: Callable[[HeldBack], None] | None = None,
        away: AwaySignals | None = None,
    ) -> None:
        self.settings = settings
        self.outbox = outbox
        self.held_back = held_back  # told when an invitation waits, and why (the demo's console)
        self.away = away  # the chat platform's out-of-office status

    # --- rounds ---------------------------------------------------------------------------

    def due_now(self, team: TeamConfig, now: datetime) -> bool:
        """Whether a scheduled run at `now` starts a round (every_weeks counts from a fixed Monday)."""
        return team.pulse is not None and is_first_week_of_period(
            now.astimezone(team.zone).date(), team.pulse.every_weeks
        )

    def start_round(
        self, session: Session, *, team: TeamConfig, agents: Sequence[RosterAgent], now: datetime
    ) -> RoundOutcome:
        """Open this period's round for `team` (or find it: a repeat never re-invites)."""
        if team.pulse is None:
            raise NotFound(f"team {team.id!r} has no pulse: block in breather.yml")
        pulse = team.pulse
        start = period_start(now.astimezone(team.zone).date(), pulse.every_weeks)
        created = insert_ignore(
            session,
            SurveyRound,
            {
                "id": uuid.uuid4().hex,
                "team_id": team.id,
                "period_start": start,
                "instruments": list(pulse.instruments),
                "opened_at": now,
                "closes_at": now + timedelta(days=pulse.close_after_days),
                "invited": 0,
                "responded": 0,
            },
            ["team_id", "period_start"],
        )
        round_ = session.exec(
            select(SurveyRound).where(
                col(SurveyRound.team_id) == team.id, col(SurveyRound.period_start) == start
            )
        ).one()
        if created:
            for agent in agents:
                session.add(
                    SurveyInvitation(
                        id=uuid.uuid4().hex,
                        round_id=round_.id,
                        pseudonym=agent.pseudonym,
                        kid=agent.kid,
                        state=InvitationState.QUEUED,
                        send_after=now,
                    )
                )
            round_.invited = len(agents)
            session.add(round_)
        return RoundOutcome(round_, created)

    @staticmethod
    def counts(session: Session, round_id: str) -> RoundCounts:
        """Invited means an invitation was sent, as the digest's response rate counts it."""
        in_round, invited = session.exec(
            select(func.count(), func.count(col(SurveyInvitation.sent_at))).where(
                col(SurveyInvitation.round_id) == round_id
            )
        ).one()
        return RoundCounts(in_round=int(in_round), invited=int(invited))

    # --- sending at sane times --------------------------------------------------------------

    def dispatch(self, session: Session, *, roster: Roster, now: datetime, limit: int = 200) -> Dispatched:
        """Send up to `limit` due invitations and `limit` due reminders in the caller's transaction.

        `send_after` is when an invitation's next message is due: the invitation itself while
        queued, the one reminder once sent. Rows held back (off shift, paused, just after a
        check-in) move it later, so they never crowd due ones out of the batch.
        """
        queued = 0
        due = session.exec(
            select(SurveyInvitation, SurveyRound)
            .join(SurveyRound, col(SurveyRound.id) == col(SurveyInvitation.round_id))
            .where(
                col(SurveyInvitation.state) == InvitationState.QUEUED, col(SurveyInvitation.send_after) <= now
            )
            .order_by(col(SurveyInvitation.send_after))
            .limit(limit)
            .with_for_update(skip_locked=True, of=SurveyInvitation)
        ).all()
        for invitation, round_ in due:
            queued += self._invite(session, invitation, round_, roster, now)
        reminders = session.exec(
            select(SurveyInvitation, SurveyRound)
            .join(SurveyRound, col(SurveyRound.id) == col(SurveyInvitation.round_id))
            .where(
                col(SurveyInvitation.state) == InvitationState.SENT,
                col(SurveyInvitation.reminded_at).is_(None),
                col(SurveyInvitation.send_after) <= now,
                col(SurveyRound.closes_at) > now,
            )
            .order_by(col(SurveyInvitation.send_after))
            .limit(limit)
            .with_for_update(skip_locked=True, of=SurveyInvitation)
        ).all()
        for invitation, round_ in reminders:
            queued += self._remind(session, invitation, round_, roster, now)
        wanted = tuple(session.info.pop(AWAY_LOOKUPS, ()))
        full = len(due) == limit or len(reminders) == limit
        return Dispatched(queued=queued, more=full or bool(wanted), to_look_up=wanted)

    def look_up(self, people: tuple[AgentRef, ...]) -> None:
        """Read out-of-office statuses a batch waited for: with no transaction open."""
        if self.away is not None:
            self.away.look_up(people)

    def _hold_back(self, session: Session, agent: RosterAgent, now: datetime) -> HeldBack | None:
        prefs = find_prefs(session, agent)
        if is_paused(prefs, now):
            # A pause with an end (or time off) is waited out; an open-ended one is looked at again.
            assert prefs is not None
            return HeldBack(agent.id, "survey", "paused", now, until=prefs.paused_until or now + PAUSED_RETRY)
        if not in_shift(agent.shift, agent.zone, now, timedelta(0), agent.day_off):
            until = next_shift_start(agent.shift, agent.zone, now, agent.day_off)
            return HeldBack(agent.id, "survey", "off_shift", now, until=until)
        last_checkin = session.exec(
            select(func.max(col(Checkin.created_at))).where(col(Checkin.pseudonym).in_(agent.pseudonyms))
        ).one()
        # Never straight after a hard-call check-in (setting survey_gap_after_checkin_minutes).
        gap = timedelta(minutes=self.settings.survey_gap_after_checkin_minutes)
        if last_checkin is not None and now - last_checkin < gap:
            last, until = last_checkin, last_checkin + gap
            return HeldBack(agent.id, "survey", "after_checkin", now, last_checkin_at=last, until=until)
        # Asked last, so the platform is only asked when the message would otherwise go out. An
        # invitation waits out the status; one still away when the round closes is never sent,
        # so the round does not count them invited. While the platform rate-limits the lookups,
        # it waits a little too ("status_unknown").
        if self.away is not None and not self.away.known(agent.ref()):
            # Not read from inside the transaction: the row stays due, the caller reads the
            # status after the commit and the next batch decides.
            session.info.setdefault(AWAY_LOOKUPS, []).append(agent.ref())
            return LOOK_UP_FIRST
        held = self.away.hold_until(agent.ref(), now, ask=False) if self.away is not None else None
        if held is not None:
            until, away = held
            return HeldBack(agent.id, "survey", "away" if away else "status_unknown", now, until=until)
        return None

    def _invite(
        self,
        session: Session,
        invitation: SurveyInvitation,
        round_: SurveyRound,
        roster: Roster,
        now: datetime,
    ) -> int:
        agent = roster.by_pseudonym(invitation.pseudonym)
        prefs = find_prefs(session, agent) if agent is not None else None
        if round_.closes_at <= now:
            invitation.state = InvitationState.EXPIRED
        elif agent is None or (prefs is not None and prefs.surveys_opted_out):
            invitation.state = InvitationState.WITHDRAWN
        else:
            held = self._hold_back(session, agent, now)
            if held is LOOK_UP_FIRST:
                return 0
            recent = session.exec(
                select(func.max(col(SurveyInvitation.sent_at))).where(
                    col(SurveyInvitation.pseudonym).in_(agent.pseudonyms),
                    col(SurveyInvitation.id) != invitation.id,
                )
            ).one()
            if recent is not None and now - recent < FATIGUE_WINDOW:
                until = max(held.until or now, recent + FATIGUE_WINDOW) if held else recent + FATIGUE_WINDOW
                held = HeldBack(agent.id, "survey", "fatigue", now, until=until)
            if held is not None:
                later = held.until or now
                if later >= round_.closes_at:
                    invitation.state = InvitationState.EXPIRED
                else:
                    invitation.send_after = later
                if self.held_back is not None:
                    self.held_back(held)
                session.add(invitation)
                return 0
            cat = agent_catalogue(session, agent)
            message = messages.invitation(
                cat,
                invitation_id=invitation.id,
                closes_at=round_.closes_at,
                zone=agent.zone,
                min_group=self.settings.anonymity_min_group,
            )
            self.outbox.send_direct(
                session,
                key=f"pulse:{invitation.id}:invite",
                to=agent.ref(),
                message=message,
                now=now,
                topic=Topic.PULSE,
            )
            invitation.state, invitation.sent_at = InvitationState.SENT, now
            invitation.send_after = now + _reminder_delay(agent.team)
        session.add(invitation)
        return 1 if invitation.state == InvitationState.SENT else 0

    def _remind(
        self,
        session: Session,
        invitation: SurveyInvitation,
        round_: SurveyRound,
        roster: Roster,
        now: datetime,
    ) -> int:
        agent = roster.by_pseudonym(invitation.pseudonym)
        prefs = find_prefs(session, agent) if agent is not None else None
        if (
            agent is None
            or agent.team.pulse is None
            or invitation.sent_at is None
            or (prefs is not None and prefs.surveys_opted_out)
        ):
            return self._no_reminder_before(session, invitation, round_.closes_at)  # i.e. none
        team = agent.team
        due_at = invitation.sent_at + _reminder_delay(team)
        if now < due_at:
            return self._no_reminder_before(session, invitation, due_at)
        held = self._hold_back(session, agent, now)
        if held is LOOK_UP_FIRST:
            return 0  # still due: decided after the status is read
        later = held.until if held is not None else None
        if later is not None:
            return self._no_reminder_before(session, invitation, later)  # while the round is open
        message = messages.invitation(
            agent_catalogue(session, agent),
            invitation_id=invitation.id,
            closes_at=round_.closes_at,
            zone=agent.zone,
            min_group=self.settings.anonymity_min_group,
            reminder=True,
        )
        self.outbox.send_direct(
            session,
            key=f"pulse:{invitation.id}:reminder",
            to=agent.ref(),
            message=message,
            now=now,
            topic=Topic.PULSE,
        )
        invitation.reminded_at = now
        session.add(invitation)
        return 1

    @staticmethod
    def _no_reminder_before(session: Session, invitation: SurveyInvitation, at: datetime) -> int:
        invitation.send_after = at
        session.add(invitation)
        return 0

    # --- the agent's answers to the invitation ------------------------------------------------

    def _own_invitation(
        self, session: Session, agent: RosterAgent, invitation_id: str
    ) -> tuple[SurveyInvitation, SurveyRound] | None:
        invitation = session.get(SurveyInvitation, invitation_id, with_for_update=True)
        if invitation is None or not agent.owns(invitation.pseudonym):
            return None
        round_ = session.get(SurveyRound, invitation.round_id)
        return (invitation, round_) if round_ is not None else None

    def _note(
        self,
        session: Session,
        agent: RosterAgent,
        where: Delivered | None,
        key: str,
        now: datetime,
        message: Message,
    ) -> None:
        if where is not None:
            self.outbox.update(
                session,
                key=f"pulse:{where.ts}:{key}",
                where=where,
                message=message,
                now=now,
                agent_id=agent.id,
            )

    def skip(
        self, session: Session, *, agent: RosterAgent, invitation_id: str, where: Delivered, now: datetime
    ) -> None:
        found = self._own_invitation(session, agent, invitation_id)
        if found is None:
            return
        invitation, _ = found
        cat = agent_catalogue(session, agent)
        if invitation.state == InvitationState.SENT:
            invitation.state = InvitationState.SKIPPED
            session.add(invitation)
        self._note(session, agent, where, "skip", now, messages.closed_note(cat, "pulse.skipped"))

    def opt_out(
        self,
        session: Session,
        *,
        agent: RosterAgent,
        invitation_id: str | None,
        where: Delivered | None,
        now: datetime,
    ) -> None:
        prefs = lock_prefs(session, agent, now)
        prefs.surveys_opted_out, prefs.updated_at = True, now
        session.add(prefs)
        # Withdraw every open invitation, so nothing more arrives from rounds already running.
        session.execute(
            update(SurveyInvitation)
            .where(
                col(SurveyInvitation.pseudonym).in_(agent.pseudonyms),
                col(SurveyInvitation.state).in_([InvitationState.QUEUED, InvitationState.SENT]),
            )
            .values(state=InvitationState.WITHDRAWN)
        )
        self._note(
            session,
            agent,
            where,
            "opt-out",
            now,
            messages.closed_note(agent_catalogue(session, agent), "pulse.opted_out"),
        )

    def opt_in(self, session: Session, *, agent: RosterAgent, now: datetime) -> bool:
        prefs = lock_prefs(session, agent, now)
        if not prefs.surveys_opted_out:
            return False
        prefs.surveys_opted_out, prefs.updated_at = False, now
        session.add(prefs)
        return True

    def form_for(
        self, session: Session, *, agent: RosterAgent, invitation_id: str, where: Delivered, now: datetime
    ) -> Form | None:
        """The modal to open, or None after telling the agent (in the DM) why not."""
        found = self._own_invitation(session, agent, invitation_id)
        cat = agent_catalogue(session, agent)
        if found is None:
            return None
        invitation, round_ = found
        if invitation.state == InvitationState.ANSWERED:
            self._note(
                session, agent, where, "already", now, messages.closed_note(cat, "pulse.already_answered")
            )
            return None
        if round_.closes_at <= now:
            self._note(session, agent, where, "closed", now, messages.closed_note(cat, "pulse.closed"))
            return None
        return messages.survey_form(
            cat, instruments=round_.instruments, context=encode_context(invitation.id, where)
        )

    def submit(
        self, session: Session, *, agent: RosterAgent, context: str, values: Mapping[str, str], now: datetime
    ) -> Submission:
        cat = agent_catalogue(session, agent)
        invitation_id, where = decode_context(context)
        found = self._own_invitation(session, agent, invitation_id)
        if found is None:
            return Submission(errors={}, thanks=messages.thanks_form(cat, text=cat.t("pulse.closed")))
        invitation, round_ = found
        if invitation.state == InvitationState.ANSWERED:
            return Submission(
                errors={}, thanks=messages.thanks_form(cat, text=cat.t("pulse.already_answered"))
            )
        if round_.closes_at <= now:
            return Submission(errors={}, thanks=messages.thanks_form(cat, text=cat.t("pulse.closed")))
        answers, errors = self._read(cat, round_.instruments, values)
        if errors:
            return Submission(errors=errors)
        follow_up = False
        for name in round_.instruments:
            instrument = INSTRUMENTS[InstrumentId(name)]
            given = {item.id: answers[item.id] for item in instrument.items if item.id in answers}
            score = instrument.score(given)
            if score is None:
                continue
            follow_up = follow_up or score.follow_up
            insert_ignore(
                session,
                SurveyAnswer,
                {
                    "round_id": round_.id,
                    "team_id": round_.team_id,
                    "pseudonym": agent.pseudonym,
                    "kid": agent.kid,
                    "instrument": instrument.id.value,
                    "instrument_version": instrument.version,
                    "answers": given,
                    "score": score.value,
                    "flagged": score.flag,
                    "submitted_at": now,
                },
                ["round_id", "pseudonym", "instrument"],
            )
        invitation.state, invitation.answered_at = InvitationState.ANSWERED, now
        session.add(invitation)
        session.execute(
            update(SurveyRound)
            .where(col(SurveyRound.id) == round_.id)
            .values(responded=col(SurveyRound.responded) + 1)
        )
        closes = messages.day_text(cat, round_.closes_at, agent.zone)
        self._note(
            session, agent, where, "answered", now, messages.closed_note(cat, "pulse.thanks", closes=closes)
        )
        # Only the thank-you the person sees now differs; the note above is the same for everyone.
        support = self.settings.support_resources if follow_up else None
        return Submission(
            errors={},
            thanks=messages.thanks_form(cat, text=cat.t("pulse.thanks", closes=closes), support=support),
        )

    @staticmethod
    def _read(
        cat: Catalogue, instruments: Sequence[str], values: Mapping[str, str]
    ) -> tuple[dict[str, int], dict[str, str]]:
        answers: dict[str, int] = {}
        errors: dict[str, str] = {}
        for name in instruments:
            for item in INSTRUMENTS[InstrumentId(name)].items:
                raw = values.get(item.id, "")
                try:
                    value = int(raw)
                except ValueError:
                    value = None
                if value is None or value not in item.scale.values():
                    errors[item.id] = cat.t("pulse.required")
                else:
                    answers[item.id] = value
        return answers, errors

    # --- the agent's own results -------------------------------------------------------------

    def own_results(self, session: Session, *, agent: RosterAgent, limit: int = 6) -> list[OwnResult]:
        rows = session.exec(
            select(SurveyAnswer)
            .where(col(SurveyAnswer.pseudonym).in_(agent.pseudonyms))
            .order_by(col(SurveyAnswer.submitted_at).desc())
            .limit(limit)
        ).all()
        return [OwnResult(InstrumentId(r.instrument), r.score, r.flagged, r.submitted_at) for r in rows]
