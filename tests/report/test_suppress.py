"""Small-cell suppression and complementary suppression over declared sums."""

from __future__ import annotations

from recruit_cli.report.suppress import suppress


def test_primary_suppression_hides_one_to_threshold_minus_one_but_not_zero() -> None:
    shown = suppress({"a": 0, "b": 1, "c": 4, "d": 5}, [], 5)
    assert shown == {"a": 0, "b": None, "c": None, "d": 5}


def test_a_single_hidden_part_takes_the_smallest_nonzero_other_part_with_it() -> None:
    values = {"total": 30, "x": 2, "y": 0, "z": 8, "w": 20}
    shown = suppress(values, [("total", ["x", "y", "z", "w"])], 5)
    # x alone would be 30 - 0 - 8 - 20; z (8) is the smallest non-zero part left.
    assert shown == {"total": 30, "x": None, "y": 0, "z": None, "w": 20}


def test_a_hidden_total_hides_a_part() -> None:
    shown = suppress({"total": 4, "x": 0, "y": 0, "z": 4}, [("total", ["x", "y", "z"])], 5)
    assert shown == {"total": None, "x": 0, "y": 0, "z": None}


def test_only_part_and_total_hidden_then_total_goes() -> None:
    # A one-part equation (the same number shown twice) hides both copies.
    shown = suppress({"flow": 3, "trend": 3, "other": 9}, [("flow", ["trend"])], 5)
    assert shown == {"flow": None, "trend": None, "other": 9}
    shown = suppress({"total": 12, "x": 2, "y": 10}, [("total", ["x", "y"])], 5)
    assert shown == {"total": 12, "x": None, "y": None}


def test_complements_chain_through_equations_until_stable() -> None:
    # rows: r1 = a + b, r2 = c + d; columns: c1 = a + c, c2 = b + d.
    values = {"a": 1, "b": 10, "c": 20, "d": 30, "r1": 11, "r2": 50, "c1": 21, "c2": 40}
    equations = [("r1", ["a", "b"]), ("r2", ["c", "d"]), ("c1", ["a", "c"]), ("c2", ["b", "d"])]
    shown = suppress(values, equations, 5)
    hidden = {k for k, v in shown.items() if v is None}
    assert hidden == {"a", "b", "c", "d"}
    for total, parts in equations:  # no equation is left with exactly one unknown
        assert sum(1 for c in [total, *parts] if c in hidden) != 1


def test_off_below_two() -> None:
    values = {"a": 1, "t": 1}
    assert suppress(values, [("t", ["a"])], 0) == values
    assert suppress(values, [("t", ["a"])], 1) == values
