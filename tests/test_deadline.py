"""The run's Deadline and call_within, on a fake clock (no test here waits for real time
except call_within's own, which a blocked call can only leave through its bound)."""

from __future__ import annotations

import threading

import pytest

from recruit_cli.deadline import Deadline, Expired, call_within
from recruit_cli.errors import DeadlineExceeded, OutOfTime
from recruit_cli.exit_codes import ExitCode


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_deadline_counts_down_and_names_its_setting() -> None:
    clock = Clock()
    run = Deadline.after(600, "[ops] max_run_minutes = 10", clock=clock)
    assert run.remaining() == 600 and not run.expired()
    clock.now += 601
    assert run.remaining() == 0 and run.expired()
    with pytest.raises(DeadlineExceeded, match=r"\(\[ops\] max_run_minutes = 10\)") as info:
        run.check("REDCap at host (content=record)")
    assert info.value.exit_code == ExitCode.UNAVAILABLE
    assert info.value.setting == "[ops] max_run_minutes = 10"


def test_a_request_bound_is_cut_short_by_the_run_and_names_whichever_comes_first() -> None:
    clock = Clock()
    run = Deadline.after(100, "[ops] max_run_minutes = 1.667", clock=clock)
    request = run.within(300, "[redcap] max_request_seconds = 300")
    assert request is run
    clock.now += 90
    early = run.within(5, "[redcap] max_request_seconds = 5")
    assert early.describe() == "[redcap] max_request_seconds = 5" and early.remaining() == 5
    assert Deadline.never().within(5, "x = 5").describe() == "x = 5"


def test_near_the_bound_no_send_is_started_and_that_is_not_a_failure() -> None:
    clock = Clock()
    run = Deadline.after(600, "[ops] max_run_minutes = 10", clock=clock)  # reserve: 60 s
    assert run.allows(wait=500)
    assert not run.allows(wait=541)
    clock.now += 545
    with pytest.raises(OutOfTime, match="near its time bound") as info:
        run.require_time("the message for key 1:invite:1")
    assert info.value.exit_code == ExitCode.OK
    assert Deadline.never().allows(wait=10**9)


def test_call_within_returns_the_answer_or_raises_what_the_call_raised() -> None:
    assert call_within(5, lambda: 42) == 42
    with pytest.raises(KeyError):
        call_within(5, lambda: {}["missing"])


def test_call_within_stops_waiting_for_a_call_that_never_ends() -> None:
    release = threading.Event()
    cut: list[bool] = []
    with pytest.raises(Expired):
        call_within(0.2, release.wait, on_expiry=lambda: cut.append(True))
    assert cut == [True]
    release.set()  # let the abandoned worker end
    with pytest.raises(Expired):
        call_within(0, lambda: 1)  # no time at all: the call is not even started
