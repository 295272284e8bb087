"""A progress line on stderr for long runs, on a terminal only.

Nothing is written when stderr is not a terminal (CI logs, pipes, files) or before the run
has lasted ``delay`` seconds; the line is rewritten in place at most ten times a second and
erased at the end, so what remains on the terminal is the run's own output.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

#: Called with (what, done, total), e.g. ("files read", 120, 5000).
Tick = Callable[[str, int, int], None]


class Progress:
    def __init__(
        self,
        stream: TextIO | None = None,
        delay: float = 1.0,
        prefix: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.delay = delay
        self.prefix = prefix
        self.shown = False
        self._last = 0.0
        try:
            tty = self.stream.isatty()
        except (AttributeError, ValueError):
            tty = False
        self.enabled = tty and "KVLINT_NO_PROGRESS" not in os.environ

    def tick(self, what: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < self.delay or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        self._write(f"\rkvlint: {self.prefix}{what} {done:,}/{total:,}\033[K")
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self._write("\r\033[K")
            self.shown = False

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False
