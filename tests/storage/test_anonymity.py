"""The anonymity gate: thresholds at k-1, k and k+1, freezing, differencing, slice suppression."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import utcnow
from bot.digests.anonymity import Candidate, Gate, shown_slices
from bot.pseudonyms import Keyring, People
from storage.db import make_engine, upgrade
from tests.conftest import PSEUDONYM_KEY

WEEK = date(2026, 11, 16)
PEOPLE = People(Keyring(PSEUDONYM_KEY.encode()))


def people(*names: str) -> frozenset[str]:
    return frozenset(names)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine: Engine = make_engine(database_url)
    upgrade(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.mark.parametrize(("size", "shown"), [(4, False), (5, True), (6, True)])
def test_a_figure_needs_k_distinct_people(session: Session, size: int, shown: bool) -> None:
    gate = Gate(session, team_id="billing", k=5, now=utcnow(), people=PEOPLE)
    released = gate.release(
        WEEK, Candidate("calls", "team", frozenset(f"p{i}" for i in range(size)), {"calls": 9})
    )
    assert (released is not None) is shown


def test_released_figures_are_frozen(session: Session) -> None:
    gate = Gate(session, team_id="billing", k=5, now=utcnow(), people=PEOPLE)
    five = people("a", "b", "c", "d", "e")
    assert gate.release(WEEK, Candidate("calls", "team", five, {"calls": 10})) == {"calls": 10}
    # A late event changes the data: the released week still says what it said.
    assert gate.release(WEEK, Candidate("calls", "team", five | {"f"}, {"calls": 11})) == {"calls": 10}


@pytest.mark.parametrize(("extra", "shown"), [(1, False), (4, False), (5, True)])
def test_two_views_differing_by_fewer_than_k_people_are_not_both_shown(
    session: Session, extra: int, shown: bool
) -> None:
    gate = Gate(session, team_id="billing", k=5, now=utcnow(), people=PEOPLE)
    base = frozenset(f"p{i}" for i in range(6))
    assert gate.release(WEEK, Candidate("calls", "team", base | {f"x{i}" for i in range(extra)}, {"n": 1}))
    slice_view = gate.release(WEEK, Candidate("calls", "queue:billing", base, {"n": 2}))
    assert (slice_view is not None) is shown


def test_other_teams_and_weeks_are_not_compared(session: Session) -> None:
    gate = Gate(session, team_id="billing", k=5, now=utcnow(), people=PEOPLE)
    base = frozenset(f"p{i}" for i in range(6))
    assert gate.release(WEEK, Candidate("calls", "team", base, {"n": 1}))
    assert gate.release(date(2026, 11, 23), Candidate("calls", "team", base | {"q"}, {"n": 2}))
    assert Gate(session, team_id="other", k=5, now=utcnow(), people=PEOPLE).release(
        WEEK, Candidate("calls", "team", base | {"q"}, {"n": 3})
    )


def test_slices_with_secondary_suppression() -> None:
    parent = frozenset(f"p{i}" for i in range(20))
    slices = {
        "a": frozenset(f"p{i}" for i in range(0, 8)),
        "b": frozenset(f"p{i}" for i in range(8, 14)),
        "c": frozenset(f"p{i}" for i in range(14, 20)),
    }
    assert shown_slices(parent, slices, 5) == {"a", "b", "c"}
    # "d" has 2 people: hiding it alone would let total minus a, b, c reveal it,
    # so the next smallest slice is hidden with it.
    slices2 = {
        "a": frozenset(f"p{i}" for i in range(0, 8)),
        "b": frozenset(f"p{i}" for i in range(8, 14)),
        "c": frozenset(f"p{i}" for i in range(14, 18)) | {"p18"},
        "d": frozenset({"p19", "p20"}),
    }
    shown = shown_slices(parent | {"p20"}, slices2, 5)
    assert "d" not in shown and len(shown) == 2


def test_a_slice_is_hidden_when_the_rest_of_the_team_is_too_small() -> None:
    parent = frozenset(f"p{i}" for i in range(8))
    slices = {"big": frozenset(f"p{i}" for i in range(6)), "small": frozenset({"p6", "p7"})}
    assert shown_slices(parent, slices, 5) == set()


@pytest.mark.parametrize(
    ("size", "number", "text"),
    [(4, False, False), (5, True, False), (9, True, False), (10, True, True), (11, True, True)],
)
def test_free_text_needs_more_people_than_a_number(
    session: Session, size: int, number: bool, text: bool
) -> None:
    """k = 5 for numbers, anonymity_min_comments = 10 for free text (k-1, k, k+1 of each)."""
    from bot.config import ProductSettings

    gate = Gate.for_team(session, ProductSettings(), team_id="billing", now=utcnow(), people=PEOPLE)
    writers = [f"p{i}" for i in range(size)]
    assert gate.allows(writers) is number
    assert gate.allows_text(writers + writers[:1]) is text  # people, not rows: a repeat adds nobody


@pytest.mark.parametrize(("extra", "shown"), [(1, False), (5, True)])
def test_a_prefetched_gate_decides_the_same_and_writes_at_flush(
    session: Session, extra: int, shown: bool
) -> None:
    """A digest reads its weeks' releases at once and writes its new ones in one statement: the
    differencing guard still sees the figures released earlier in the same digest."""
    base = frozenset(f"p{i}" for i in range(6))
    other = date(2026, 11, 23)
    gate = Gate(session, team_id="billing", k=5, now=utcnow(), people=PEOPLE)
    assert gate.release(other, Candidate("calls", "team", base, {"n": 0}))  # released before the digest
    gate.prefetch([WEEK, other])
    assert gate.release(WEEK, Candidate("calls", "team", base | {f"x{i}" for i in range(extra)}, {"n": 1}))
    assert (gate.release(WEEK, Candidate("calls", "queue:billing", base, {"n": 2})) is not None) is shown
    assert gate.release(other, Candidate("calls", "team", base | {"late"}, {"n": 9})) == {"n": 0}  # frozen
    gate.flush()
    session.commit()
    later = Gate(session, team_id="billing", k=5, now=utcnow(), people=PEOPLE)
    assert later.release(WEEK, Candidate("calls", "team", base, {"n": 7})) == {"n": 1}  # written, so frozen
    slice_again = later.release(WEEK, Candidate("calls", "queue:billing", base, {"n": 8}))
    assert slice_again == ({"n": 2} if shown else None)
