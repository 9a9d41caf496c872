"""Coffee pairs (issue 16): once a week, a team with `pairing:` in breather.yml pairs the agents
who opted in, avoiding repeats for as long as it can, and suggests a short shared break inside
both shifts. One friendly DM per person; opt-in, a week can be skipped, no reminders.

Each person's place in a week's pairing is one `pairings` row under their pseudonym; rows of
one pair share a `pair_id`. Nothing about pairs reaches a manager.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import combinations

from sqlmodel import Session, col, select

from bot.checkins.policy import shift_window
from bot.checkins.service import find_prefs, is_paused
from bot.config import TeamConfig
from bot.delivery import Outbox
from bot.i18n import Catalogue
from bot.ids import ActionId
from bot.languages import agent_catalogue
from bot.messenger import Button, Buttons, Message, Note, Text
from bot.outbox_keys import Topic
from bot.roster import Roster, RosterAgent
from storage.models import Pairing

SLOT_STEP = timedelta(minutes=10)
MIN_OVERLAP = timedelta(minutes=30)


def week_start(team: TeamConfig, moment: datetime) -> date:
    local = moment.astimezone(team.zone).date()
    return local - timedelta(days=local.weekday())


def _order(people: Sequence[RosterAgent], week: date) -> list[RosterAgent]:
    """A fixed shuffle per week, so a rerun pairs the same way and weeks differ."""
    return sorted(people, key=lambda a: hashlib.sha256(f"{week}:{a.id}".encode()).hexdigest())


def make_pairs(
    people: Sequence[RosterAgent], history: Counter[frozenset[str]], week: date
) -> list[list[RosterAgent]]:
    """Pairs of agents who met least often before (greedy); an odd one out joins the last pair."""
    left = _order(people, week)
    groups: list[list[RosterAgent]] = []
    while len(left) >= 2:
        first = left.pop(0)
        partner = min(left, key=lambda other: history[frozenset((first.id, other.id))])
        left.remove(partner)
        groups.append([first, partner])
    if left and groups:
        groups[-1].append(left[0])
    return groups


def shared_slot(group: Sequence[RosterAgent], after: datetime) -> datetime | None:
    """The middle of the first stretch of at least 30 minutes, within a week, when everyone in
    the group is on shift (each in their own zone and hours, holidays skipped)."""
    for hours in range(0, 7 * 24, 1):
        moment = after + timedelta(hours=hours)
        windows = [shift_window(a.shift, a.zone, moment, a.day_off) for a in group]
        if any(w is None for w in windows):
            continue
        start = max(max(w[0] for w in windows if w), after)
        end = min(w[1] for w in windows if w)
        if end - start >= MIN_OVERLAP:
            middle = start + (end - start) / 2
            return middle - timedelta(
                minutes=middle.minute % 10, seconds=middle.second, microseconds=middle.microsecond
            )
    return None


def _names(cat: Catalogue, others: Sequence[RosterAgent]) -> str:
    if len(others) == 1:
        return others[0].name
    return cat.t("pairing.and", first=", ".join(a.name for a in others[:-1]), last=others[-1].name)


def pair_message(
    cat: Catalogue, me: RosterAgent, others: Sequence[RosterAgent], slot: datetime | None
) -> Message:
    names = _names(cat, others)
    if slot is None:
        text = cat.t("pairing.paired_no_slot", names=names)
    else:
        local = slot.astimezone(me.zone)
        text = cat.t("pairing.paired", names=names, day=cat.formats.day(local), time=cat.formats.time(local))
    skip = Buttons(
        block_id="pairing",
        buttons=(Button(action=ActionId.PAIRING_SKIP.value, label=cat.t("pairing.skip_button")),),
    )
    return Message(text=text, parts=(Text(text=text), skip, Note(text=cat.t("pairing.note"))))


class Pairings:
    def __init__(self, *, outbox: Outbox) -> None:
        self.outbox = outbox

    def history(self, session: Session, team: TeamConfig, roster: Roster) -> Counter[frozenset[str]]:
        """How often each two agents were paired before (kept as long as the rows are)."""
        rows = session.exec(select(Pairing).where(col(Pairing.team_id) == team.id)).all()
        groups: dict[str, list[str]] = {}
        for row in rows:
            agent = roster.by_pseudonym(row.pseudonym)
            if agent is not None:
                groups.setdefault(row.pair_id, []).append(agent.id)
        met: Counter[frozenset[str]] = Counter()
        for members in groups.values():
            for a, b in combinations(members, 2):
                met[frozenset((a, b))] += 1
        return met

    @staticmethod
    def made(session: Session, team: TeamConfig, week: date) -> bool:
        """Whether the team's pairs for the week starting `week` have been made."""
        return (
            session.exec(
                select(col(Pairing.id)).where(
                    col(Pairing.team_id) == team.id, col(Pairing.week_start) == week
                )
            ).first()
            is not None
        )

    def pair_team(self, session: Session, *, team: TeamConfig, roster: Roster, now: datetime) -> int:
        """This week's pairs for a team (once per week); returns how many people were paired."""
        week = week_start(team, now)
        if self.made(session, team, week):
            return 0
        people = []
        for agent in roster.agents():
            if agent.team.id != team.id:
                continue
            prefs = find_prefs(session, agent)
            if prefs is None or not prefs.pairing or prefs.pairing_skip == week or is_paused(prefs, now):
                continue
            people.append(agent)
        groups = make_pairs(people, self.history(session, team, roster), week)
        for group in groups:
            pair_id = uuid.uuid4().hex
            slot = shared_slot(group, now)
            for me in group:
                session.add(
                    Pairing(
                        id=uuid.uuid4().hex,
                        team_id=team.id,
                        week_start=week,
                        pair_id=pair_id,
                        pseudonym=me.pseudonym,
                        kid=me.kid,
                        created_at=now,
                    )
                )
                others = [a for a in group if a.id != me.id]
                self.outbox.send_direct(
                    session,
                    key=f"pairing:{team.id}:{week}:{me.id}",
                    to=me.ref(),
                    message=pair_message(agent_catalogue(session, me), me, others, slot),
                    now=now,
                    topic=Topic.PAIRING,
                )
        return sum(len(g) for g in groups)
