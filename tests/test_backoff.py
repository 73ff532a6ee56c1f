"""The reconnect schedule: exponential growth, a cap, jitter within bounds, a reset after a stable connection."""

from __future__ import annotations

import random
import runpy

import pytest

from tools.notebooks import NOTEBOOKS
from wstutorial.backoff import Backoff, check_backoff, format_seconds

pytestmark = pytest.mark.usefixtures("english")


def schedule(backoff, attempts):
    return [round(backoff.next_delay(), 6) for _ in range(attempts)]


def test_without_jitter_delays_double_from_the_first_until_the_cap():
    backoff = Backoff(first_delay=0.5, factor=2, max_delay=10, jitter=0)
    assert schedule(backoff, 8) == [0.5, 1, 2, 4, 8, 10, 10, 10]


@pytest.mark.parametrize("seed", range(5))
def test_every_delay_lies_within_its_jitter_bounds_and_between_the_minimum_and_the_cap(seed):
    backoff = Backoff(first_delay=0.2, factor=1.7, max_delay=5, jitter=0.4, rng=random.Random(seed))
    shortest, cap = 0.2 * (1 - 0.4), 5
    for attempt in range(1, 200):
        delay = backoff.next_delay()
        low, high = backoff.bounds(attempt)
        assert low <= delay <= high, (attempt, delay, low, high)
        assert shortest <= delay <= cap
    assert backoff.bounds(199) == (pytest.approx(3.0), 5)  # capped: jitter still takes up to 40% off


def test_jitter_uses_its_whole_range():
    backoff = Backoff(first_delay=1, factor=1, max_delay=1, jitter=0.5, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(2000)]
    assert min(delays) < 0.52 and max(delays) > 0.98


def test_clients_dropped_together_do_not_come_back_together():
    first_delays = [Backoff(rng=random.Random(seed)).next_delay() for seed in range(30)]
    assert len({round(delay, 3) for delay in first_delays}) > 25
    assert max(first_delays) - min(first_delays) > 0.1  # spread over the jitter range (0.25 to 0.5 s)


def test_a_connection_that_stayed_up_long_enough_starts_the_schedule_over():
    backoff = Backoff(first_delay=0.5, factor=2, max_delay=10, jitter=0, reset_after=5)
    schedule(backoff, 4)
    backoff.connection_lasted(5.0)
    assert backoff.attempt == 0
    assert backoff.next_delay() == 0.5


def test_a_connection_that_dropped_at_once_keeps_the_delays_growing():
    backoff = Backoff(first_delay=0.5, factor=2, max_delay=10, jitter=0, reset_after=5)
    schedule(backoff, 3)
    backoff.connection_lasted(0.2)  # a server that accepts, then drops at once
    assert backoff.next_delay() == 4


def test_a_huge_attempt_number_stays_at_the_cap():
    backoff = Backoff(first_delay=0.5, factor=2, max_delay=10, jitter=0)
    assert backoff.base_delay(100_000) == 10


def test_status_line_in_english_and_indonesian():
    backoff = Backoff(first_delay=2.1, jitter=0)
    schedule(backoff, 3)
    assert backoff.status(2.14, "en") == "Reconnecting in 2.1 s (attempt 3)"
    assert backoff.status(2.14, "id") == "Menyambung ulang dalam 2,1 detik (percobaan 3)"
    assert format_seconds(0.25, "id") == "0,2"
    assert format_seconds(0.467, "id", digits=2) == "0,47" and format_seconds(0.467, "en", digits=2) == "0.47"


@pytest.mark.parametrize(
    "values", [dict(first_delay=0), dict(factor=0.5), dict(max_delay=0.1), dict(jitter=1), dict(reset_after=-1)]
)
def test_impossible_settings_are_refused_with_the_rule(values):
    with pytest.raises(ValueError, match="first_delay > 0, factor >= 1"):
        Backoff(**values)


# The lesson's exercise.


def test_backoff_solution_passes_its_check(capsys):
    check_backoff(runpy.run_path(str(NOTEBOOKS / "solutions" / "05-backoff.py"))["reconnect_delay"])
    assert "✓" in capsys.readouterr().out


def test_backoff_check_says_not_tried_while_the_placeholder_is_there(capsys):
    check_backoff(None)
    assert "Not tried yet" in capsys.readouterr().out


def test_backoff_check_fails_a_delay_without_jitter():
    with pytest.raises(AssertionError, match="add jitter"):
        check_backoff(lambda attempt: min(8, 0.5 * 2 ** (attempt - 1)))


def test_backoff_check_fails_a_delay_without_a_cap():
    with pytest.raises(AssertionError, match=r"reconnect_delay\(6\) returned"):
        check_backoff(lambda attempt: 0.5 * 2 ** (attempt - 1) * (1 - 0.5 * random.random()))


def test_backoff_check_fails_a_delay_that_does_not_grow():
    with pytest.raises(AssertionError, match=r"reconnect_delay\(2\)"):
        check_backoff(lambda attempt: 0.5 * (1 - 0.5 * random.random()))


def test_backoff_check_wants_a_number():
    with pytest.raises(AssertionError, match="number of seconds"):
        check_backoff(lambda attempt: "0.5")
