"""How long a reconnecting client waits before each attempt: exponential backoff with jitter and a cap.

    backoff = Backoff(first_delay=0.5, factor=2, max_delay=10, jitter=0.5)
    backoff.next_delay()            # attempt 1: between 0.25 and 0.5 s
    backoff.next_delay()            # attempt 2: between 0.5 and 1 s ... never more than 10 s
    backoff.connection_lasted(6.0)  # a connection that stayed up `reset_after` seconds: start over

Why each part: *exponential* so a server that is down for long is not hammered; *jitter* (a random
share taken off each delay) so thirty clients dropped at the same moment do not all come back at the
same moment; a *cap* so a client still retries often enough once the server is back; a *reset* only
after a connection has stayed up a while, so a server that accepts and drops at once still gets
growing delays. Lesson 05 compares these numbers with websockets' own reconnect loop and with the
browser library reconnecting-websocket.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .i18n import add_messages, get_language, t

FIRST_DELAY = 0.5  # seconds before the first reconnection attempt (at most; jitter takes some off)
FACTOR = 2.0
MAX_DELAY = 10.0
JITTER = 0.5  # each delay loses a random share of up to half of itself
RESET_AFTER = 5.0  # seconds a connection must last for the schedule to start over

add_messages(
    {
        "backoff_bad_value": {
            "en": "Backoff needs first_delay > 0, factor >= 1, max_delay >= first_delay,"
            " 0 <= jitter < 1 and reset_after >= 0; got {values}.",
            "id": "Backoff memerlukan first_delay > 0, factor >= 1, max_delay >= first_delay,"
            " 0 <= jitter < 1, dan reset_after >= 0; yang diberikan {values}.",
        },
        "reconnecting_in": {
            "en": "Reconnecting in {delay} s (attempt {attempt})",
            "id": "Menyambung ulang dalam {delay} detik (percobaan {attempt})",
        },
        "backoff_not_tried": {
            "en": "Not tried yet: write your reconnect_delay function in the cell above, run it,"
            " then run this cell again.",
            "id": "Belum dicoba: tulis fungsi reconnect_delay Anda di sel di atas, jalankan,"
            " lalu jalankan sel ini lagi.",
        },
        "backoff_not_number": {
            "en": "reconnect_delay({attempt}) returned {got!r}: it should return a number of seconds.",
            "id": "reconnect_delay({attempt}) mengembalikan {got!r}: seharusnya jumlah detik (angka).",
        },
        "backoff_out_of_bounds": {
            "en": "reconnect_delay({attempt}) returned {got:.3f} s; with jitter it should lie between"
            " {low:.3f} and {high:.3f} s (half of {high:.3f} up to all of it).",
            "id": "reconnect_delay({attempt}) mengembalikan {got:.3f} detik; dengan jitter seharusnya"
            " antara {low:.3f} dan {high:.3f} detik (setengah dari {high:.3f} sampai penuh).",
        },
        "backoff_no_jitter": {
            "en": "reconnect_delay({attempt}) returned {got:.3f} s every time: add jitter, e.g."
            " `delay * (1 - 0.5 * random.random())`, so that clients dropped together do not"
            " come back together.",
            "id": "reconnect_delay({attempt}) selalu mengembalikan {got:.3f} detik: tambahkan jitter,"
            " misalnya `delay * (1 - 0.5 * random.random())`, agar klien yang terputus bersamaan"
            " tidak kembali bersamaan.",
        },
    }
)


def format_seconds(seconds: float, lang: str | None = None, digits: int = 1) -> str:
    """`seconds` with `digits` decimals, as a reader of `lang` writes it: "2.1" in English, "2,1" in
    Indonesian (lesson 05 prints its schedule with it, so each language reads its own numbers)."""
    text = f"{seconds:.{digits}f}"
    return text.replace(".", ",") if (lang or get_language()) == "id" else text


class Backoff:
    """The delays before reconnection attempts 1, 2, 3 ...: `first_delay` × `factor`ⁿ⁻¹, capped.

    Each delay then loses a random share of up to `jitter` of itself, so attempt n waits between
    ``(1 - jitter) * base`` and ``base`` seconds, where ``base = min(max_delay, first_delay *
    factor ** (n - 1))``. Pass `rng` (a ``random.Random``) to make the schedule repeatable.
    """

    def __init__(
        self,
        first_delay: float = FIRST_DELAY,
        factor: float = FACTOR,
        max_delay: float = MAX_DELAY,
        jitter: float = JITTER,
        reset_after: float = RESET_AFTER,
        rng: random.Random | None = None,
    ) -> None:
        values = dict(first_delay=first_delay, factor=factor, max_delay=max_delay, jitter=jitter,
                      reset_after=reset_after)
        if not (first_delay > 0 and factor >= 1 and max_delay >= first_delay and 0 <= jitter < 1
                and reset_after >= 0):
            raise ValueError(t("backoff_bad_value", values=values))
        self.first_delay = first_delay
        self.factor = factor
        self.max_delay = max_delay
        self.jitter = jitter
        self.reset_after = reset_after
        self.attempt = 0  # attempts made since the last stable connection
        self._random: Callable[[], float] = (rng or random.Random()).random

    def base_delay(self, attempt: int) -> float:
        """The delay before `attempt` (1, 2, ...) before jitter: it grows by `factor`, up to the cap."""
        # Grow step by step: factor ** attempt overflows a float long before attempt gets large.
        delay = self.first_delay
        for _ in range(attempt - 1):
            delay *= self.factor
            if delay >= self.max_delay:
                return self.max_delay
        return min(delay, self.max_delay)

    def bounds(self, attempt: int) -> tuple[float, float]:
        """The shortest and longest delay `attempt` can draw."""
        base = self.base_delay(attempt)
        return base * (1 - self.jitter), base

    def next_delay(self) -> float:
        """Count one more attempt and return how long to wait before it."""
        self.attempt += 1
        return self.base_delay(self.attempt) * (1 - self.jitter * self._random())

    def connection_lasted(self, seconds: float) -> None:
        """A connection opened and then ended after `seconds`: if it was stable, start over."""
        if seconds >= self.reset_after:
            self.attempt = 0

    def status(self, delay: float, lang: str | None = None) -> str:
        """"Reconnecting in 2.1 s (attempt 3)", for the attempt `next_delay` just counted."""
        return t("reconnecting_in", lang, delay=format_seconds(delay, lang), attempt=self.attempt)

    def __repr__(self) -> str:
        return (f"Backoff(first_delay={self.first_delay}, factor={self.factor}, max_delay={self.max_delay},"
                f" jitter={self.jitter}, reset_after={self.reset_after})")


# The lesson's exercise: the learner writes reconnect_delay(attempt) for these numbers.
EXERCISE = Backoff(first_delay=0.5, factor=2, max_delay=8, jitter=0.5)
EXERCISE_ATTEMPTS = range(1, 13)
EXERCISE_SAMPLES = 50


def check_backoff(reconnect_delay: object) -> None:
    """Lesson 05: `reconnect_delay(attempt)` follows EXERCISE's schedule, jitter included."""
    if reconnect_delay is None:
        print(t("backoff_not_tried"))
        return
    for attempt in EXERCISE_ATTEMPTS:
        low, high = EXERCISE.bounds(attempt)
        drawn = []
        for _ in range(EXERCISE_SAMPLES):
            got = reconnect_delay(attempt)  # type: ignore[operator]
            if isinstance(got, bool) or not isinstance(got, int | float):
                raise AssertionError(t("backoff_not_number", attempt=attempt, got=got))
            if not low - 1e-9 <= got <= high + 1e-9:
                raise AssertionError(t("backoff_out_of_bounds", attempt=attempt, got=got, low=low, high=high))
            drawn.append(got)
        if len(set(drawn)) == 1:
            raise AssertionError(t("backoff_no_jitter", attempt=attempt, got=drawn[0]))
    print(t("well_done"))
