"""A request budget per socket: a token bucket."""

from __future__ import annotations

import time


class TokenBucket:
    """Requests per connection: ``rate`` per second, bursts up to ``burst``."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 when allowed, else the seconds until one token is back."""
        current = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (current - self.stamp) * self.rate)
        self.stamp = current
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate
