"""No out-of-office lookup happens while the looking thread has a database transaction open
(an HTTP round trip inside one holds SQLite's single write lock, or a PostgreSQL connection and
row locks, for up to the lookup's timeout), yet every decision still uses the status."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bot.away import AwaySignals, PlatformStatus
from bot.container import Services
from bot.messenger import AgentRef
from tests.conftest import Harness
from tests.e2e.test_buddies import ask_for_talk, buddies, say
from tests.e2e.test_platform_away import ANA_DM, THURSDAY, checkin_sent, office
from tests.e2e.test_recovery_talk import submit
from tests.helpers import settled

__all__ = ["buddies", "office"]  # fixtures, used below


class Watch:
    """Counts, per thread, the transactions open on an engine, and wraps the status source so
    that a lookup made while one is open is recorded."""

    def __init__(self, engine: Engine, away: AwaySignals) -> None:
        self.engine, self.open = engine, threading.local()
        self.reads: list[str] = []
        self.inside: list[str] = []
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._end)
        event.listen(engine, "rollback", self._end)
        source = away.source
        assert source is not None

        def status_of(to: AgentRef) -> PlatformStatus | None:
            self.reads.append(to.agent_id)
            if self._connections():
                self.inside.append(to.agent_id)
            return source.status_of(to)

        away.source = type("Watched", (), {"status_of": staticmethod(status_of)})()

    def _connections(self) -> set[int]:
        if not hasattr(self.open, "connections"):
            self.open.connections = set()
        connections: set[int] = self.open.connections
        return connections

    def _begin(self, conn: Connection) -> None:
        self._connections().add(id(conn))

    def _end(self, conn: Connection) -> None:
        self._connections().discard(id(conn))

    def close(self) -> None:
        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "commit", self._end)
        event.remove(self.engine, "rollback", self._end)


@pytest.fixture
def watch() -> Iterator[Any]:
    watches: list[Watch] = []

    def start(services: Services) -> Watch:
        watches.append(Watch(services.engine, services.away))
        return watches[-1]

    yield start
    for w in watches:
        w.close()


def test_a_checkin_reads_the_status_with_no_transaction_open(office: Any, watch: Any) -> None:
    harness, clock = office()
    seen = watch(harness.services)
    harness.slack.set_status("U0ANA", ":palm_tree:", expiration=(clock.now + timedelta(hours=1)).timestamp())
    assert not checkin_sent(harness, clock)  # held back: the status was used
    clock.advance(hours=2)
    assert checkin_sent(harness, clock)
    assert seen.reads and seen.inside == []


def test_survey_invitations_and_reminders_read_statuses_with_no_transaction_open(
    office: Any, watch: Any
) -> None:
    harness, clock = office()
    seen = watch(harness.services)
    harness.slack.set_status("U0BOB", ":palm_tree:", expiration=(clock.now + timedelta(days=2)).timestamp())
    outcome = harness.services.survey_actions.start_round("billing")
    settled(harness.services)
    assert harness.services.survey_actions.round_counts(outcome.round.id).invited == 4  # Bob waits
    assert len(harness.slack.messages(ANA_DM)) == 1 and harness.slack.messages("D0BOB") == []
    harness.services.away.forget()
    clock.advance(hours=25)  # Ana's reminder is due; Bob is still away
    harness.services.survey_actions.dispatch()
    settled(harness.services)
    assert len(harness.slack.messages(ANA_DM)) == 2 and harness.slack.messages("D0BOB") == []
    assert len(set(seen.reads)) == 5 and seen.inside == []


def test_a_buddy_is_chosen_by_status_read_with_no_transaction_open(buddies: Harness, watch: Any) -> None:
    say(buddies, "U0CRIS", "buddy on")
    say(buddies, "U0DANA", "buddy on")
    buddies.slack.add_user("U0DANA", "dana@example.com")
    buddies.slack.set_status("U0CRIS", ":palm_tree:")
    seen = watch(buddies.services)
    checkin_id, _ = ask_for_talk(buddies, "U0ANA", "ana@example.com")
    submit(buddies, checkin_id, "buddy:any")
    settled(buddies.services)
    assert buddies.slack.messages("D0DANA") and not buddies.slack.messages("D0CRIS")
    assert seen.reads and seen.inside == []


def test_lookups_are_rationed_below_the_platforms_limit() -> None:
    ticks = [0.0]

    class Counting:
        asked = 0

        def status_of(self, to: AgentRef) -> PlatformStatus | None:
            Counting.asked += 1
            return PlatformStatus()

    signals = AwaySignals(Counting(), per_minute=3, monotonic=lambda: ticks[0])
    people = [AgentRef(agent_id=f"a{i}", email=f"a{i}@example.com") for i in range(5)]
    assert [signals.hold_until(p, THURSDAY) for p in people[:3]] == [None] * 3
    assert Counting.asked == 3
    held = signals.hold_until(people[3], THURSDAY)  # the ration is used up: a survey waits ...
    assert held is not None and held[1] is False and Counting.asked == 3
    assert signals.away_until(people[3], THURSDAY) is None  # ... a check-in goes out unchecked
    ticks[0] = 20.0  # one lookup's worth of ration back
    assert signals.hold_until(people[4], THURSDAY) is None and Counting.asked == 4
