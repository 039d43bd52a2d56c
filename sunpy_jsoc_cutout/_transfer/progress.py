"""
Staging progress: which export is being staged, its JSOC status, how long it has taken and what
JSOC expects.

`StagingProgress` draws one tqdm bar (one step per export, the current request in its postfix) or,
with ``bar=False``, writes log lines through ``sunpy.log`` (only when something changes, at most
every ``log_every`` seconds while an export stays pending). A disabled `StagingProgress` says
nothing, so the runner can call it unconditionally.
"""

from __future__ import annotations

from typing import IO

from tqdm.auto import tqdm

from sunpy import log

__all__ = ["StagingProgress"]

_STATUS_TEXT = {0: "complete", 1: "processing", 2: "queued", 6: "not found yet", 7: "waiting for a pending request"}


class StagingProgress:
    """
    Progress of the staging of several exports.

    Parameters
    ----------
    enabled : bool
        If false, every method does nothing.
    bar : bool
        A tqdm bar (default) or log lines.
    file : file-like, optional
        Where the bar is drawn (tqdm's default, stderr, otherwise).
    log_every : float
        With log lines: seconds between two lines about the same pending export.
    """

    def __init__(self, enabled: bool = True, *, bar: bool = True, file: IO[str] | None = None, log_every: float = 60):
        self.enabled = enabled
        self.use_bar = bar
        self.file = file
        self.log_every = log_every
        self._bar = None
        self._last: dict[str, tuple[int | None, float]] = {}

    def begin(self, total: int) -> None:
        """Start showing the staging of ``total`` exports."""
        if not self.enabled:
            return
        if self.use_bar:
            self._bar = tqdm(total=total, desc="Staging JSOC exports", unit="export", file=self.file, leave=True)
        else:
            log.info("Staging %s JSOC export(s)", total)

    def submitted(self, requestid: str, label: str, adopted: bool = False) -> None:
        """An export was submitted (or an earlier request adopted)."""
        if not self.enabled:
            return
        how = "adopted" if adopted else "submitted"
        if self._bar is not None:
            self._bar.set_postfix_str(f"{requestid} {how}", refresh=True)
        else:
            log.info("JSOC export %s %s: %s", requestid, how, label)

    def polled(self, requestid: str, status: int | None, elapsed: float, wait: float | None) -> None:
        """A status poll answered ``status`` after ``elapsed`` seconds; JSOC's ``wait`` hint."""
        if not self.enabled:
            return
        text = _STATUS_TEXT.get(status, f"status {status}") if status is not None else "no status"
        expected = f", JSOC expects {wait:.0f} s more" if wait is not None and wait > 0 else ""
        if self._bar is not None:
            self._bar.set_postfix_str(f"{requestid} {text}, {elapsed:.0f} s{expected}", refresh=True)
            return
        previous = self._last.get(requestid)
        if previous is None or previous[0] != status or elapsed - previous[1] >= self.log_every:
            self._last[requestid] = (status, elapsed)
            log.info("JSOC export %s %s after %.0f s%s", requestid, text, elapsed, expected)

    def finished(self, requestid: str | None, ok: bool, message: str = "") -> None:
        """An export is ready (``ok``) or failed."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(1)
            self._bar.set_postfix_str(f"{requestid} {'ready' if ok else 'failed'}", refresh=True)
        elif ok:
            log.info("JSOC export %s ready", requestid)
        else:
            log.info("JSOC export %s failed: %s", requestid, message)

    def end(self) -> None:
        """Stop showing progress (closes the bar)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
