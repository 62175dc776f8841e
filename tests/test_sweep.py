"""The sweep's bookkeeping (pure): which ids are due a read-back, and where it reads next.

The sweep itself, against a real cluster whose Redis restarts, is in test_cluster.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from directus_chat_widget.realtime._sweep import Sweeper, SweepMarks


def delivered(*keys: int) -> Callable[[int], bool]:
    """A subscription that has delivered ``keys``."""
    known = set(keys)
    return lambda key: key in known


def test_an_id_missing_at_two_sweeps_running_is_due_once() -> None:
    marks = SweepMarks(10)
    assert marks.examine([11, 12, 13], delivered(11, 13)) == []  # 12: maybe still on its way
    assert marks.examine([11, 12, 13, 14], delivered(11, 13, 14)) == [12]
    marks.fetched([12])
    assert marks.examine([11, 12, 13, 14], delivered(11, 13, 14)) == []  # never twice


def test_an_id_delivered_late_is_never_due() -> None:
    marks = SweepMarks(0)
    assert marks.examine([1, 2], delivered(1)) == []
    assert marks.examine([1, 2, 3], delivered(1, 2, 3)) == []


def test_the_floor_stays_below_a_missing_id_and_one_sweep_behind() -> None:
    marks = SweepMarks(10)
    marks.examine([11, 12, 13], delivered(11, 12, 13))
    assert marks.checked == 10  # one sweep behind: a lower id may still commit
    marks.examine([11, 12, 13, 20], delivered(11, 12, 13, 20))
    assert marks.checked == 13
    marks.examine([20, 21, 22], delivered(20, 22))
    assert marks.checked == 20  # not past 21, which is missing
    due = marks.examine([20, 21, 22, 23], delivered(20, 22, 23))
    assert due == [21] and marks.checked == 20
    marks.fetched(due)
    marks.examine([20, 21, 22, 23], delivered(20, 22, 23))
    assert marks.checked == 23  # past 21 now, up to the newest id of the sweep before


def test_a_read_back_that_failed_is_due_again() -> None:
    marks = SweepMarks(0)
    marks.examine([1, 2], delivered(1))
    assert marks.examine([1, 2], delivered(1)) == [2]
    # not fetched (the link dropped): due at the next sweep too, and the floor waits
    assert marks.examine([1, 2, 3], delivered(1, 3)) == [2]
    assert marks.checked == 1


def test_a_late_commit_below_the_newest_id_is_still_looked_at() -> None:
    marks = SweepMarks(0)
    marks.examine([1, 3], delivered(1, 3))  # 2 was handed out but not committed yet
    marks.examine([1, 2, 3], delivered(1, 3))  # it commits; its event was lost
    assert marks.examine([1, 2, 3], delivered(1, 3)) == [2]


def test_nothing_new_moves_nothing() -> None:
    marks = SweepMarks(5)
    assert marks.examine([], delivered()) == []
    assert marks.checked == 5


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="sweep_interval"):
        Sweeper(None, 0)  # type: ignore[arg-type]
