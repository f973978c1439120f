"""The catch-up window: which change_seq values a late-committing writer may still fill."""

from __future__ import annotations

from dailypapers.search.catchup import MAX_UNSEEN_RANGES, advance_window


def test_values_skipped_below_the_new_high_water_are_remembered():
    assert advance_window(10, (), {11, 14, 15}, overlap_seq=100) == (15, ((12, 13),))


def test_a_late_commit_fills_its_unseen_value():
    assert advance_window(15, ((12, 13),), {12}, overlap_seq=100) == (15, ((13, 13),))


def test_unseen_values_fall_out_of_the_overlap_window():
    high, unseen = advance_window(15, ((12, 13),), {200}, overlap_seq=50)
    assert high == 200
    assert unseen == ((151, 199),)


def test_writers_that_commit_in_order_leave_no_window():
    assert advance_window(10, (), {12, 20}, overlap_seq=0) == (20, ())


def test_nothing_read_changes_nothing():
    assert advance_window(15, ((12, 13),), (), overlap_seq=100) == (15, ((12, 13),))


def test_many_unseen_ranges_merge_into_one_span():
    seen = set(range(2, 400, 2))
    high, unseen = advance_window(0, (), seen, overlap_seq=1_000)
    assert MAX_UNSEEN_RANGES < 199
    assert high == 398
    assert unseen == ((1, 397),)
