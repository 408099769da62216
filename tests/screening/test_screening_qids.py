"""QIDS-SR16: the total's validation and the published item scoring."""

from __future__ import annotations

import pytest

from recruit_cli.screening.qids import score, score_items, score_total

ITEMS = [f"qids_{i}" for i in range(1, 17)]


@pytest.mark.parametrize(
    ("raw", "total"), [("0", 0), ("27", 27), ("12", 12), (" 7 ", 7), ("05", 5)]
)
def test_valid_totals(raw: str, total: int) -> None:
    assert score_total({"q": raw}, "q").total == total


@pytest.mark.parametrize(
    "raw", ["28", "-1", "abc", "12.5", "", "   ", "１２", "1e1", "+5", "12 3", "0x1", "2²", "100"]
)
def test_invalid_totals_name_the_field_not_the_value(raw: str) -> None:
    result = score_total({"q": raw}, "q")
    assert result.total is None
    assert result.problem is not None and "[q]" in result.problem
    if raw.strip():
        assert raw.strip() not in result.problem


def test_items_scored_by_the_published_rule() -> None:
    # sleep max(1,3,0,2)=3, mood 2, appetite max(0,1,3,0)=3, 10-14: 1+2+0+3+1=7, psychomotor 2
    values = [1, 3, 0, 2, 2, 0, 1, 3, 0, 1, 2, 0, 3, 1, 2, 0]
    record = {name: str(v) for name, v in zip(ITEMS, values, strict=True)}
    assert score(values) == 3 + 2 + 3 + 7 + 2
    assert score_items(record, ITEMS).total == 17


@pytest.mark.parametrize(("value", "total"), [(0, 0), (3, 27)])
def test_item_extremes(value: int, total: int) -> None:
    assert score_items(dict.fromkeys(ITEMS, str(value)), ITEMS).total == total


@pytest.mark.parametrize("bad", ["", "4", "-1", "1.5", "x", "３"])
def test_an_incomplete_or_out_of_range_item_is_a_problem(bad: str) -> None:
    record = dict.fromkeys(ITEMS, "1")
    record["qids_7"] = bad
    result = score_items(record, ITEMS)
    assert result.total is None
    assert result.problem is not None and "[qids_7]" in result.problem


def test_missing_item_field_is_blank() -> None:
    record = dict.fromkeys(ITEMS[:-1], "1")
    result = score_items(record, ITEMS)
    assert result.problem == "[qids_16] is blank"
