"""A per-connection rate limit for handlers: a token bucket, so a client cannot flood the server.

    bucket = TokenBucket(rate=5, burst=5)   # 5 messages per second, bursts of up to 5
    async for message in websocket:
        if not bucket.take():
            await websocket.close(CloseCode.POLICY_VIOLATION, "rate limit: 5 messages per second")
            break

The policy (how many, what happens when it is exceeded) stays in the lesson's handler, where a
learner sees it; this module only counts. Make one bucket per connection, inside the handler, so
one noisy client never uses up another client's allowance.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .i18n import add_messages, t

add_messages(
    {
        "bucket_bad_rate": {
            "en": "rate and burst must be positive numbers (messages per second, and how many may"
            " arrive at once), not rate={rate!r}, burst={burst!r}.",
            "id": "rate dan burst harus berupa bilangan positif (pesan per detik, dan berapa banyak yang"
            " boleh datang sekaligus), bukan rate={rate!r}, burst={burst!r}.",
        },
    }
)


class TokenBucket:
    """Allow `rate` events per second on average, and up to `burst` at once.

    The bucket holds at most `burst` tokens and refills at `rate` tokens per second; each event
    takes one. It starts full, so a client may send `burst` messages at once after connecting.
    `clock` is a monotonic clock in seconds (tests pass their own to step time by hand).
    """

    def __init__(
        self, rate: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        burst = rate if burst is None else burst
        if not (_positive(rate) and _positive(burst)):
            raise ValueError(t("bucket_bad_rate", rate=rate, burst=burst))
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._tokens = self.burst
        self._last = clock()

    @property
    def tokens(self) -> float:
        """How many events would be allowed right now."""
        self._refill()
        return self._tokens

    def take(self) -> bool:
        """Take one token: True if the event is allowed, False if it goes over the limit."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def __repr__(self) -> str:
        return f"<TokenBucket {self.rate:g}/s, burst {self.burst:g}>"


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
