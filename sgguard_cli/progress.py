"""Progress on long work a person waits for (deploy, demo, bench, soak), on stderr.

On a terminal: one line redrawn in place, ``[####------] 3/7 deploying``; otherwise (a pipe, a CI
log, a test) one plain line per step, ``[3/7] deploying``. No dependency.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    def __init__(
        self, total: int, label: str = "", stream: TextIO | None = None, width: int = 20, enabled: bool = True
    ):
        self.total = max(total, 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.enabled = enabled
        self.done = 0
        self.started = time.monotonic()
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty())
        self._drawn = False

    def step(self, text: str) -> None:
        """Start step ``done + 1`` (``text`` says what it does)."""
        self.done = min(self.done + 1, self.total)
        self._show(text)

    def finish(self, text: str = "done") -> None:
        self.done = self.total
        self._show(f"{text} ({time.monotonic() - self.started:.1f} s)")
        if self.enabled and self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def note(self, text: str) -> None:
        """A line of its own (keeps the bar below it on a terminal)."""
        if not self.enabled:
            return
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[K")
        self.stream.write(text + "\n")
        self.stream.flush()
        self._drawn = False

    def _show(self, text: str) -> None:
        if not self.enabled:
            return
        prefix = f"{self.label}: " if self.label else ""
        if self.tty:
            filled = self.width * self.done // self.total
            bar = "#" * filled + "-" * (self.width - filled)
            self.stream.write(f"\r\x1b[K[{bar}] {self.done}/{self.total} {prefix}{text}")
            self._drawn = True
        else:
            self.stream.write(f"[{self.done}/{self.total}] {prefix}{text}\n")
        self.stream.flush()
