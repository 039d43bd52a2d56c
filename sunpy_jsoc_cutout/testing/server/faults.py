"""
Transport-level fault knobs of the JSOC emulator.

These faults act on the HTTP exchange itself, below JSOC's JSON protocol: an HTTP 500 page, a
connection reset without any reply, a slow reply, a truncated file body (the full
``Content-Length`` is announced but only part of the body is sent) and a corrupted file body
(same length, some bytes flipped). Export-level faults (a request failing part-way, a pending
request made elsewhere...) belong to the export manager.

Every knob is off by default. A knob applies to one endpoint (or ``"all"``), either to every call
or to a seeded random fraction of calls, optionally only ``times`` times. File faults act on
``GET`` requests only; a ``HEAD`` (parfive's probe before each download) is always answered
normally, so ``times=1`` means exactly one failed download.
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field

__all__ = [
    "ENDPOINTS",
    "FAULT_KINDS",
    "FILE_ONLY_KINDS",
    "FaultRule",
    "InvalidFault",
    "TransportFaults",
    "corrupt_bytes",
]

#: Endpoint names a fault can target (``"all"`` targets every JSOC endpoint and the files,
#: never the emulator's own control API).
ENDPOINTS = (
    "jsoc_info",
    "jsoc_fetch",
    "checkAddress",
    "show_series",
    "showextseries",
    "manage_request",
    "files",
    "all",
)

#: The kinds of transport fault.
FAULT_KINDS = ("http500", "reset", "slow", "truncate", "corrupt")

#: Kinds that only make sense for file downloads.
FILE_ONLY_KINDS = ("truncate", "corrupt")


class InvalidFault(ValueError):
    """A fault knob was given an unknown kind, endpoint or an out-of-range value."""


@dataclass
class FaultRule:
    """
    One transport fault knob.

    Parameters
    ----------
    kind : str
        One of `FAULT_KINDS`.
    endpoint : str
        One of `ENDPOINTS`.
    fraction : float
        Probability (0-1] that a call triggers the fault; 1 means every call.
    times : int or None
        Trigger at most this many times (None: no limit).
    delay : float
        Seconds to wait before replying (``slow`` only).
    keep : float
        Fraction of the body sent before closing (``truncate`` only), in [0, 1).
    hits : int
        How many times the rule has triggered so far.
    """

    kind: str
    endpoint: str = "all"
    fraction: float = 1.0
    times: int | None = None
    delay: float = 1.0
    keep: float = 0.5
    hits: int = field(default=0)

    def __post_init__(self):
        if self.kind not in FAULT_KINDS:
            raise InvalidFault(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.endpoint not in ENDPOINTS:
            raise InvalidFault(f"unknown endpoint {self.endpoint!r}; expected one of {ENDPOINTS}")
        if self.kind in FILE_ONLY_KINDS and self.endpoint not in ("files", "all"):
            raise InvalidFault(f"fault {self.kind!r} applies to file downloads only (endpoint 'files')")
        if not 0 < self.fraction <= 1:
            raise InvalidFault(f"fraction must be in (0, 1], got {self.fraction}")
        if self.times is not None and self.times < 1:
            raise InvalidFault(f"times must be a positive integer or None, got {self.times}")
        if self.delay < 0:
            raise InvalidFault(f"delay must be >= 0, got {self.delay}")
        if not 0 <= self.keep < 1:
            raise InvalidFault(f"keep must be in [0, 1), got {self.keep}")

    def matches(self, endpoint: str) -> bool:
        """Whether the rule targets ``endpoint`` (file-only kinds never match a CGI endpoint)."""
        if self.kind in FILE_ONLY_KINDS and endpoint != "files":
            return False
        return self.endpoint in ("all", endpoint)

    @property
    def exhausted(self) -> bool:
        """True once the rule has triggered ``times`` times."""
        return self.times is not None and self.hits >= self.times

    def to_dict(self) -> dict:
        """The rule as a JSON-serialisable dict."""
        return asdict(self)


class TransportFaults:
    """
    The set of active transport fault knobs (thread safe, seeded).

    Parameters
    ----------
    seed : int
        Seed of the random draws used by rules with ``fraction < 1``.

    Examples
    --------
    >>> from sunpy_jsoc_cutout.testing.server.faults import TransportFaults
    >>> faults = TransportFaults()
    >>> faults.set("http500", "jsoc_fetch", times=1).kind
    'http500'
    >>> sorted(faults.draw("jsoc_fetch"))
    ['http500']
    >>> faults.draw("jsoc_fetch")
    {}
    """

    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(seed)

    def set(
        self,
        kind: str,
        endpoint: str = "all",
        *,
        fraction: float = 1.0,
        times: int | None = None,
        delay: float = 1.0,
        keep: float = 0.5,
    ) -> FaultRule:
        """
        Turn a fault on, replacing any rule of the same kind and endpoint.

        Parameters
        ----------
        kind, endpoint, fraction, times, delay, keep
            See `FaultRule`.

        Returns
        -------
        FaultRule
            The new rule.

        Raises
        ------
        InvalidFault
            For an unknown kind or endpoint or a value out of range.
        """
        rule = FaultRule(kind, endpoint, float(fraction), times, float(delay), float(keep))
        with self._lock:
            self._rules = [r for r in self._rules if (r.kind, r.endpoint) != (kind, endpoint)]
            self._rules.append(rule)
        return rule

    def clear(self, kind: str | None = None, endpoint: str | None = None) -> int:
        """
        Turn faults off: all of them, or those of one kind and/or endpoint.

        Returns
        -------
        int
            The number of rules removed.
        """
        with self._lock:
            keep = [
                r
                for r in self._rules
                if (kind is not None and r.kind != kind) or (endpoint is not None and r.endpoint != endpoint)
            ]
            removed = len(self._rules) - len(keep)
            self._rules = keep
        return removed

    @property
    def rules(self) -> list[FaultRule]:
        """A copy of the active rules."""
        with self._lock:
            return list(self._rules)

    def to_list(self) -> list[dict]:
        """The active rules as JSON-serialisable dicts."""
        return [rule.to_dict() for rule in self.rules]

    def draw(self, endpoint: str) -> dict[str, FaultRule]:
        """
        Decide which faults hit one call to ``endpoint``, counting the hits.

        Parameters
        ----------
        endpoint : str
            The endpoint being served (one of `ENDPOINTS` except ``"all"``).

        Returns
        -------
        dict
            Fault kind to the rule that triggered it (empty when the call is served normally).
        """
        hit: dict[str, FaultRule] = {}
        with self._lock:
            for rule in self._rules:
                if rule.kind in hit or rule.exhausted or not rule.matches(endpoint):
                    continue
                if rule.fraction < 1 and self._random.random() >= rule.fraction:
                    continue
                rule.hits += 1
                hit[rule.kind] = rule
        return hit


def corrupt_bytes(data: bytes, count: int = 16) -> bytes:
    """
    Flip ``count`` bytes spread evenly over the second half of ``data`` (same length).

    The first half (where a FITS primary header lives) is left intact, so the file still opens
    but its data differ.

    Examples
    --------
    >>> from sunpy_jsoc_cutout.testing.server.faults import corrupt_bytes
    >>> corrupt_bytes(bytes(8), count=2)
    b'\\x00\\x00\\x00\\x00\\xff\\x00\\xff\\x00'
    """
    if not data:
        return data
    out = bytearray(data)
    start = len(out) // 2
    span = len(out) - start
    step = max(1, span // max(1, count))
    for pos in range(start, len(out), step)[:count]:
        out[pos] ^= 0xFF
    return bytes(out)
