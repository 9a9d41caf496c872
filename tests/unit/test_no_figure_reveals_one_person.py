"""The anonymity gate's rule against unanimous figures (issue 13, point 3), checked exhaustively:
for every group size a figure may describe and every outcome, whatever any single member
answered, the figure shown could still have come out. Both ends alike, so the band is no tell."""

from __future__ import annotations

import pytest

from bot.digests.anonymity import banded, people_at_least
from bot.digests.model import Band, Figure


@pytest.mark.parametrize("k", range(3, 11))
def test_a_share_of_people_never_pins_down_any_member(k: int) -> None:
    for n in range(k, 41):
        shown = [banded(c / n, scale=1.0, k=k, digits=2) for c in range(n + 1)]
        for figure in shown:
            outcomes = [c for c in range(n + 1) if shown[c] == figure]
            # someone answered "yes" in one outcome and someone answered "no" in another:
            # with this figure, any given member may have answered either way.
            assert max(outcomes) >= 1 and min(outcomes) <= n - 1, (k, n, figure)
        assert shown[0] != Figure(0.0) and shown[n] != Figure(1.0)  # never "0 %" or "100 %"
        assert shown[0] == Figure(round(1 / k, 2), Band.AT_MOST)
        assert shown[n] == Figure(round(1 - 1 / k, 2), Band.AT_LEAST)


@pytest.mark.parametrize("k", [3, 5, 8])
def test_a_mean_never_pins_down_any_member(k: int) -> None:
    """WHO-5 scores are 0..100 in steps of 4: for every mean shown, any member may have scored
    0 and may have scored 100."""
    for n in range(k, 13):
        totals = range(0, 100 * n + 1, 4)
        for total in totals:
            figure = banded(total / n, scale=100, k=k, digits=1)
            for mine in (0, 100):
                others = [t - mine for t in totals if 0 <= t - mine <= 100 * (n - 1)]
                assert any(banded((mine + o) / n, scale=100, k=k, digits=1) == figure for o in others), (
                    k,
                    n,
                    total,
                    mine,
                )


def test_unanimity_reads_like_all_but_one_at_both_ends() -> None:
    assert banded(6 / 6, scale=1.0, k=5, digits=2) == banded(5 / 6, scale=1.0, k=5, digits=2)
    assert banded(0 / 6, scale=1.0, k=5, digits=2) == banded(1 / 6, scale=1.0, k=5, digits=2)
    assert (
        banded(100.0, scale=100, k=5, digits=1)
        == banded(96.7, scale=100, k=5, digits=1)
        == Figure(80.0, Band.AT_LEAST)
    )
    assert banded(0.0, scale=100, k=5, digits=1) == Figure(20.0, Band.AT_MOST)
    assert banded(0.55, scale=1.0, k=5, digits=2) == Figure(0.55)  # away from the ends: exact


def test_a_count_of_people_never_says_everyone() -> None:
    assert [people_at_least(n, 5) for n in (5, 6, 9, 10, 11, 16)] == [5, 5, 5, 5, 10, 15]
    for n in range(6, 60):
        assert people_at_least(n, 5) < n  # a team of n cannot read "all n answered"
