"""How long the emulated JSOC takes: the time model of the export manager.

Two presets:

`FAST`
    For tests. Status advances by **poll count**: the first ``exp_status`` poll after the
    submission answers 1, the next one 0 (as soon as the files are really made). ``wait`` is 0,
    there is no queue delay and no bandwidth limit.
`REALISTIC`
    The timings of ``docs/explanation/emulator.rst`` ("Time models", with their sources): fresh
    ``wait`` 10 s, queue pickup 3 s plus 0-5 s of seeded jitter, 10 s fixed overhead, 0.35 s
    per exported file, 1.5 s per record for ``im_patch``, 2 s per record for ``aia_scale_*``,
    +0.1 s per file for ``url-tar`` and 4 MB/s of download bandwidth per connection. Other
    processing steps (``rebin``, ``resize``, ``Maproj``...) cost 1 s per record (an
    assumption: JSOC publishes no figure).

`TimeModel.scaled` divides every duration by a factor (and multiplies the bandwidth), so that
benchmarks keep the realistic proportions in less wall time. Whatever the model says, a
request is only reported complete once its files are really on disk.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FAST", "REALISTIC", "TimeModel"]


@dataclass(frozen=True)
class TimeModel:
    """
    Durations and limits of the emulated export system.

    Attributes
    ----------
    name : str
        A label shown by the control API.
    poll_driven : bool
        If true, completion is decided by the number of ``exp_status`` polls, not by time.
    polls_processing : int
        With ``poll_driven``, how many polls answer 1 before the request may answer 0.
    fresh_wait : float
        Seconds from submission to the ``EstTime`` of a new request (the ``wait`` of the
        ``exp_request`` reply; JSOC always says 10).
    queue_delay, queue_jitter : float
        Pickup delay of the export manager: ``queue_delay`` plus a uniform draw in
        ``[0, queue_jitter)`` seeded by ``seed`` and the request's serial number.
    overhead : float
        Fixed seconds per request (index files, packing list, storage unit).
    per_file : float
        Seconds per exported file.
    per_tar_file : float
        Extra seconds per file for ``url-tar``.
    step_seconds : tuple of (str, float)
        Seconds per input record for processing steps whose name starts with the given prefix.
    other_step_seconds : float
        Seconds per record for any other processing step.
    bandwidth : float or None
        Download bytes per second per connection (None: unlimited).
    tape_delay : float
        Extra seconds for a request whose records are on tape (the offline-data knob,
        `~sunpy_jsoc_cutout.testing.catalogue.tape.TapeArchive`): the staging from tape. 180 s, from
        "nearline access times of several minutes" (http://jsoc.stanford.edu/ROSES_2008/,
        ``docs/explanation/emulator.rst``, "Fault knobs"); an assumption, as no measured figure exists.
    seed : int
        Seed of the queue jitter.
    """

    name: str = "custom"
    poll_driven: bool = False
    polls_processing: int = 1
    fresh_wait: float = 10.0
    queue_delay: float = 3.0
    queue_jitter: float = 5.0
    overhead: float = 10.0
    per_file: float = 0.35
    per_tar_file: float = 0.1
    step_seconds: tuple[tuple[str, float], ...] = (("im_patch", 1.5), ("aia_scale", 2.0))
    other_step_seconds: float = 1.0
    bandwidth: float | None = 4e6
    tape_delay: float = 180.0
    seed: int = 0

    def scaled(self, factor: float) -> TimeModel:
        """
        The same model running ``factor`` times faster.

        Parameters
        ----------
        factor : float
            Speed-up (> 0): durations are divided by it, the bandwidth multiplied.

        Returns
        -------
        TimeModel
        """
        if factor <= 0:
            raise ValueError(f"the scale factor must be positive, not {factor!r}")
        return dataclasses.replace(
            self,
            name=f"{self.name}/{factor:g}",
            fresh_wait=self.fresh_wait / factor,
            queue_delay=self.queue_delay / factor,
            queue_jitter=self.queue_jitter / factor,
            overhead=self.overhead / factor,
            per_file=self.per_file / factor,
            per_tar_file=self.per_tar_file / factor,
            step_seconds=tuple((name, sec / factor) for name, sec in self.step_seconds),
            other_step_seconds=self.other_step_seconds / factor,
            bandwidth=None if self.bandwidth is None else self.bandwidth * factor,
            tape_delay=self.tape_delay / factor,
        )

    def queue_time(self, serial: int) -> float:
        """Pickup delay (seconds) of the request with this serial number (deterministic)."""
        jitter = random.Random(self.seed * 1_000_003 + serial).random() * self.queue_jitter
        return self.queue_delay + jitter

    def step_cost(self, step: str) -> float:
        """Seconds per record of processing step ``step`` (``no_op`` is free)."""
        if step == "no_op":
            return 0.0
        for prefix, seconds in self.step_seconds:
            if step.startswith(prefix):
                return seconds
        return self.other_step_seconds

    def processing_time(self, n_files: int, n_records: int, steps: Sequence[str] = (), tar: bool = False) -> float:
        """
        Seconds from pickup to completion.

        Parameters
        ----------
        n_files : int
            Files exported.
        n_records : int
            Input records (processing steps are charged per record).
        steps : sequence of str
            Names of the processing steps.
        tar : bool
            Whether a tar file is made (``url-tar``).
        """
        seconds = self.overhead + self.file_seconds(n_files, tar)
        seconds += sum(self.step_cost(step) for step in steps) * n_records
        return seconds

    def file_seconds(self, n_files: int, tar: bool = False) -> float:
        """Seconds charged for writing ``n_files`` exported files (and packing them, with ``tar``)."""
        return n_files * (self.per_file + (self.per_tar_file if tar else 0.0))

    def completion_delay(
        self, serial: int, n_files: int, n_records: int, steps: Sequence[str] = (), tar: bool = False
    ) -> float:
        """Seconds from submission to completion (queue time plus processing time)."""
        return self.queue_time(serial) + self.processing_time(n_files, n_records, steps, tar)


FAST = TimeModel(
    name="fast",
    poll_driven=True,
    polls_processing=1,
    fresh_wait=0.0,
    queue_delay=0.0,
    queue_jitter=0.0,
    overhead=0.0,
    per_file=0.0,
    per_tar_file=0.0,
    step_seconds=(),
    other_step_seconds=0.0,
    bandwidth=None,
    tape_delay=0.0,
)
"""Test preset: one poll at status 1, then 0; ``wait`` 0; unlimited bandwidth."""

REALISTIC = TimeModel(name="realistic")
"""The realistic preset; its figures and their sources are in ``docs/explanation/emulator.rst`` ("Time models")."""
