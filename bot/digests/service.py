"""Build a team's digest (this week and the 12-week trend) through the anonymity gate, decide who
may read it, and watch for surges of hard calls."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Integer, cast, func
from sqlmodel import Session, col, select

from bot.config import BreatherConfig, ProductSettings, TeamConfig
from bot.digests.aggregates import (
    CallWeek,
    CheckinWeek,
    WellbeingWeek,
    call_weeks,
    checkin_weeks,
    compliment_weeks,
    wellbeing_weeks,
)
from bot.digests.anonymity import Candidate, Gate
from bot.digests.model import (
    Calls,
    Checkins,
    Digest,
    Figure,
    Period,
    Queue,
    QueueCalls,
    Reason,
    Suppressed,
    Surge,
    Wellbeing,
)
from bot.digests.periods import Week, complete_weeks, shift_hours_per_week
from bot.identity import readable_teams
from bot.pseudonyms import People
from bot.surveys.instruments import InstrumentId
from storage.models import Call, DigestAccess, SurgeAlert

# The figure families whose form changed with the rule against unanimous figures (issue 13):
# releases frozen in the earlier form (exact shares and counts) are never shown again.
WELLBEING, CHECKINS = "wellbeing/2", "checkins/2"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


class DigestVia(StrEnum):
    """How a digest was read (digest_access_log.via, shown in the audit as "via …")."""

    CLI = "cli"
    SLACK_COMMAND = "slack command"
    TEAMS_COMMAND = "teams command"
    COMMAND = "command"  # a command from a caller whose platform is not known
    APP_HOME = "app home"
    WEEKLY_DM = "weekly dm"


class DigestService:
    def __init__(
        self,
        *,
        settings: ProductSettings,
        people: Callable[[], People],
        readers: Callable[[TeamConfig], frozenset[str]] = lambda team: frozenset(),
    ) -> None:
        self.settings = settings
        self.k = settings.anonymity_min_group
        self.people = people  # who is who across live pseudonym keys (the roster's)
        self.readers = readers  # the team's leads (and admins) on the roster: left out of its figures

    # --- who may read what ----------------------------------------------------------------

    def readable_teams(self, config: BreatherConfig, email: str | None) -> list[TeamConfig]:
        """Teams whose digest `email` may read: their own as a listed manager, or all as an admin."""
        return readable_teams(config.teams, self.settings.admins, email)

    @staticmethod
    def log_access(session: Session, *, reader: str, team_id: str, via: DigestVia, now: datetime) -> None:
        session.add(DigestAccess(reader=reader.lower(), team_id=team_id, via=via, at=now))

    # --- the digest -------------------------------------------------------------------------

    def digest(
        self, session: Session, team: TeamConfig, now: datetime, *, until: datetime | None = None
    ) -> Digest:
        """The latest week complete at `until` (default: now) and the weeks before it."""
        weeks = complete_weeks(team.zone, until or now)
        people = self.people()
        leads = self.readers(team)
        calls = call_weeks(session, team.id, weeks, people, leads)
        checkins = checkin_weeks(session, team.id, weeks, people, leads)
        wellbeing = wellbeing_weeks(session, team.id, weeks, people, leads)
        compliments = compliment_weeks(session, team.id, weeks, people, leads)
        gate = Gate.for_team(session, self.settings, team_id=team.id, now=now, people=people)
        gate.prefetch([week.start for week in weeks])
        periods = [
            self._period(gate, team, week, calls[i], checkins[i], wellbeing[i], compliments[i])
            for i, week in enumerate(weeks)
        ]
        gate.flush()
        return Digest(latest=periods[-1], trend=tuple(periods[:-1]))

    def _period(
        self,
        gate: Gate,
        team: TeamConfig,
        week: Week,
        calls: CallWeek,
        checkins: CheckinWeek,
        wellbeing: WellbeingWeek,
        compliments: tuple[set[str], int],
    ) -> Period:
        return Period(
            team=team.id,
            start=week.start,
            end=week.end,
            min_group=self.k,
            wellbeing=self._wellbeing(gate, week, wellbeing),
            calls=self._calls(gate, team, week, calls),
            queues=self._queues(gate, week, calls),
            checkins=self._checkins(gate, week, checkins),
            compliments=self._compliments(gate, week, compliments),
        )

    def _wellbeing(self, gate: Gate, week: Week, data: WellbeingWeek) -> Wellbeing | Suppressed:
        # Each instrument's figures are judged on the people who answered that instrument, and
        # go through the gate's rule against unanimous figures (shares on 0..1, means on 0..100).
        metrics: dict[str, Figure] = {}
        who5 = data.scores.get(InstrumentId.WHO5.value, [])
        if gate.allows({p for p, _, _ in who5}):
            metrics["who5_mean"] = gate.figure(_mean([s for _, s, _ in who5]), scale=100, digits=1)
            metrics["who5_low_share"] = gate.figure(sum(f for _, _, f in who5) / len(who5))
        burnout = data.scores.get(InstrumentId.BURNOUT_SINGLE.value, [])
        if gate.allows({p for p, _, _ in burnout}):
            metrics["burnout_share"] = gate.figure(sum(f for _, _, f in burnout) / len(burnout))
        cbi = data.scores.get(InstrumentId.CBI_CLIENT.value, [])
        if gate.allows({p for p, _, _ in cbi}):
            metrics["cbi_client_mean"] = gate.figure(_mean([s for _, s, _ in cbi]), scale=100, digits=1)
        if gate.allows(data.invited):  # a response rate is counted over the people invited
            metrics["response_rate"] = gate.figure(len(data.respondents & data.invited) / len(data.invited))
        # "N or more people answered", never the count itself (no "N of N").
        shown = Wellbeing(respondents=gate.headcount(len(data.respondents)), **metrics)
        released = gate.release(
            week.start, Candidate(WELLBEING, "team", frozenset(data.respondents), shown.to_json())
        )
        if released is None:
            # "No survey" is a fact about the calendar, not about people, so it may be said.
            return Suppressed(Reason.FEW_RESPONDENTS if data.invited else Reason.NO_SURVEY, self.k)
        return Wellbeing.from_json(released)

    def _calls(self, gate: Gate, team: TeamConfig, week: Week, data: CallWeek) -> Calls | Suppressed:
        hours = len(data.people) * shift_hours_per_week(team.shift)
        figures = Calls(
            calls=data.calls,
            hard_share=round(data.hard / data.calls, 2) if data.calls else 0.0,
            abusive=data.abusive,
            # Scheduled agent-hours of the people who took calls: Breather does not track log-in time.
            calls_per_agent_hour=round(data.calls / hours, 1) if hours else 0.0,
        )
        released = gate.release(
            week.start, Candidate("calls", "team", frozenset(data.people), figures.to_json())
        )
        return Calls.from_json(released) if released is not None else Suppressed(Reason.FEW_AGENTS, self.k)

    def _queues(self, gate: Gate, week: Week, data: CallWeek) -> tuple[Queue, ...]:
        if len(data.queues) < 2:
            return ()  # one queue is the team total
        parent = frozenset(data.people)
        slices = {name: frozenset(people) for name, people in data.queues.items()}
        shown = gate.shown_slices(parent, slices)
        result: list[Queue] = []
        for name in sorted(data.queues):
            released = None
            if name in shown:
                calls = data.queue_calls[name]
                figures = Queue(name, QueueCalls(calls, round(data.queue_hard[name] / calls, 2)))
                released = gate.release(
                    week.start, Candidate("calls", f"queue:{name}", slices[name], figures.to_json())
                )
            result.append(
                Queue.from_json(released, self.k)
                if released is not None
                else Queue(name, Suppressed(Reason.FEW_AGENTS, self.k))
            )
        return tuple(result)

    def _checkins(self, gate: Gate, week: Week, data: CheckinWeek) -> Checkins | Suppressed:
        everyone = len(data.people)  # shares of the people who had a check-in, not of check-ins
        figures = Checkins(
            sent=data.sent,
            break_share=gate.figure(len(data.took_break) / everyone if everyone else 0.0),
            talk_share=gate.figure(len(data.asked_to_talk) / everyone if everyone else 0.0),
        )
        released = gate.release(
            week.start, Candidate(CHECKINS, "team", frozenset(data.people), figures.to_json())
        )
        return Checkins.from_json(released) if released is not None else Suppressed(Reason.FEW_AGENTS, self.k)

    def _compliments(self, gate: Gate, week: Week, data: tuple[set[str], int]) -> int | Suppressed:
        people, received = data
        released = gate.release(
            week.start, Candidate("compliments", "team", frozenset(people), {"received": received})
        )
        return int(released["received"]) if released is not None else Suppressed(Reason.FEW_AGENTS, self.k)

    # --- surges ------------------------------------------------------------------------------

    def surge(self, session: Session, team: TeamConfig, now: datetime) -> Surge | None:
        """A team-level alert when the last hour's hard-call share is well above the team's own
        baseline and spread over at least k people; at most one per cooldown."""
        s = self.settings
        last = session.exec(
            select(func.max(col(SurgeAlert.sent_at))).where(col(SurgeAlert.team_id) == team.id)
        ).one()
        if last is not None and now - last < timedelta(hours=s.surge_cooldown_hours):
            return None
        window_start = now - timedelta(minutes=s.surge_window_minutes)
        recent = session.exec(
            select(col(Call.pseudonym), func.count(), func.sum(cast(col(Call.hard), Integer)))
            .where(
                col(Call.team_id) == team.id, col(Call.ended_at) >= window_start, col(Call.ended_at) <= now
            )
            .group_by(col(Call.pseudonym))
        ).all()
        people = self.people()
        leads = self.readers(team)
        recent = [row for row in recent if people.canonical(row[0]) not in leads]
        calls = sum(int(n) for _, n, _ in recent)
        hard = sum(int(h or 0) for _, _, h in recent)
        hard_people = {people.canonical(p) for p, _, h in recent if h}
        gate = Gate.for_team(session, s, team_id=team.id, now=now, people=people)
        if calls < s.surge_min_calls or not gate.allows(hard_people):
            return None
        base_calls, base_hard = session.exec(
            select(func.count(), func.sum(cast(col(Call.hard), Integer))).where(
                col(Call.team_id) == team.id,
                col(Call.ended_at) >= now - timedelta(days=28),
                col(Call.ended_at) < window_start,
            )
        ).one()
        baseline = max((int(base_hard or 0) / int(base_calls)) if base_calls else 0.0, s.surge_baseline_floor)
        share = hard / calls
        if share < s.surge_factor * baseline:
            return None
        session.add(SurgeAlert(team_id=team.id, sent_at=now))
        return Surge(
            team=team.id,
            calls=calls,
            hard_share=round(share, 2),
            baseline=round(baseline, 2),
            people=len(hard_people),
            window_minutes=s.surge_window_minutes,
        )
