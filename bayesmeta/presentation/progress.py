"""Progress on standard error while a model compiles and samples.

On a terminal the sampling line updates in place (draws done, divergences so far);
otherwise (logs, CI) only the stage lines and the final timing are printed.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class TerminalProgress:
    """Implements :class:`bayesmeta.inference.sampling.Progress` for the command line."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._open_line = False

    def _write(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text)
            self.stream.flush()

    def stage(self, message: str) -> None:
        self._end_line()
        self._write(f"[bayesmeta] {message} ...\n")

    def sampling(self, done: int, total: int, divergences: int) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        width = 30
        filled = int(width * done / max(total, 1))
        bar = "█" * filled + "░" * (width - filled)
        self._write(f"\r[bayesmeta] {bar} {100 * done / max(total, 1):5.1f}%  "
                    f"{done}/{total} draws, {divergences} divergences")
        self._open_line = True

    def finished(self, message: str) -> None:
        self._end_line()
        self._write(f"[bayesmeta] {message}\n")

    def _end_line(self) -> None:
        if self._open_line:
            self._write("\n")
            self._open_line = False
