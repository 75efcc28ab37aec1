"""Per-user limits: one question in flight, and a number of questions per minute."""

from __future__ import annotations

import collections
import time
from typing import Callable

WINDOW_S = 60.0


class UserLimits:
    """Admits a user's question or says why not; ``end`` must follow every admitted ``begin``."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._in_flight: set[int] = set()
        self._asked: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._swept = clock()

    def _sweep(self, now: float) -> None:
        """Forget users with no question in the last window, at most once a window: the map holds only recent askers."""
        if now - self._swept < WINDOW_S:
            return
        self._swept = now
        for uid in [u for u, asked in self._asked.items() if not asked or now - asked[-1] >= WINDOW_S]:
            del self._asked[uid]

    def tracked(self) -> int:
        """How many users the per-minute counts are kept for."""
        return len(self._asked)

    def begin(self, user_id: int) -> str | None:
        """None when the question may go ahead, else a short sentence for the user."""
        if user_id in self._in_flight:
            return "You already have a question in progress: wait for its answer, or send /cancel."
        now = self.clock()
        self._sweep(now)
        asked = self._asked[user_id]
        while asked and now - asked[0] >= WINDOW_S:
            asked.popleft()
        if len(asked) >= self.per_minute:
            wait = int(WINDOW_S - (now - asked[0])) + 1
            return f"You have asked {self.per_minute} questions this minute; please wait {wait} s."
        asked.append(now)
        self._in_flight.add(user_id)
        return None

    def end(self, user_id: int) -> None:
        """The user's question is answered (or failed)."""
        self._in_flight.discard(user_id)

    def busy(self, user_id: int) -> bool:
        """Whether the user has a question in flight."""
        return user_id in self._in_flight
