"""
A thin ``jsoc_info`` client: the metadata requests of a search (``rs_list``, ``series_struct``).

It asks only for the keywords it is given and pages large record sets, so searches of 100,000
records stay fast. Keyword values come back as JSOC sends them (strings); `int_keyword` reads
hex ``QUALITY`` strings (``"0x00000400"``) that pandas-based readers turn into NaN.

What real series lack is read the way ``jsoc_info`` answers it (``lm-jps/drms``
``base/export/apps/jsoc_info.c``): a keyword the series does not have comes back as the value
``"Invalid KeyLink"`` for every record (no error status), a value that is not set as
``"MISSING"``. `JSOCInfo.series` reads each series' ``series_struct`` once per JSOC URL so that
a search asks only for keywords the series has (real AIA series have no ``CALVER64``, real HMI
series no ``HGLN_OBS``/``HGLT_OBS``/``EXPTIME``: the ``series_struct`` replies of
``aia.lev1_euv_12s`` and ``hmi.M_45s`` recorded in sunpy/sunpy's test cassettes, 2020).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import requests

from sunpy import log

from sunpy_jsoc_cutout.config import conf_value
from sunpy_jsoc_cutout.exceptions import JSOCInfoError, SeriesNotFoundError

__all__ = [
    "ABSENT_VALUES",
    "JSOCInfo",
    "SeriesInfo",
    "int_keyword",
    "is_absent",
]

#: What ``jsoc_info`` prints instead of a value: an unknown keyword, an unset value, an unknown segment.
ABSENT_VALUES = frozenset({"Invalid KeyLink", "MISSING", "InvalidSegName", ""})


def is_absent(value) -> bool:
    """Whether a ``jsoc_info`` value stands for no value (`ABSENT_VALUES`, `None`, JSOC's -4712 default time)."""
    if value is None:
        return True
    text = str(value).strip()
    return text in ABSENT_VALUES or text.startswith("-4712")


def int_keyword(value, default: int | None = None, *, bits: int = 32) -> int | None:
    """
    An integer keyword from JSOC's string, or ``default`` when it is absent.

    Reads ``"0x80000000"``, ``"-2147483648"`` and ``"1024"``; ``"MISSING"``, ``"Invalid KeyLink"``
    and unparsable text give ``default``. Hex values are read as signed ``bits``-bit integers
    (``QUALITY`` 0x80000000 is -2147483648; ``bits=64`` for ``CALVER64``).
    """
    if is_absent(value):
        return default
    text = str(value).strip()
    try:
        number = int(text, 16) if text.lower().startswith("0x") else int(float(text)) if bits <= 32 else int(text)
    except ValueError:
        return default
    top = 1 << (bits - 1)
    return number - 2 * top if top <= number < 2 * top else number


@dataclass(frozen=True)
class SeriesInfo:
    """What one ``series_struct`` reply says a series has (names as JSOC spells them)."""

    name: str
    keywords: tuple[str, ...]
    segments: tuple[str, ...]
    primekeys: tuple[str, ...]

    def has(self, keyword: str) -> bool:
        """Whether the series has ``keyword`` (case-insensitive)."""
        return keyword.upper() in {k.upper() for k in self.keywords}

    def present(self, keys: Iterable[str]) -> tuple[str, ...]:
        """The names of ``keys`` the series has, in order; pseudo-keys such as ``*recnum*`` are kept."""
        known = {k.upper() for k in self.keywords}
        return tuple(k for k in keys if k.startswith("*") or k.upper() in known)

    @property
    def image_segment(self) -> str | None:
        """The first segment that is not AIA's ``spikes`` table."""
        return next((s for s in self.segments if s != "spikes"), self.segments[0] if self.segments else None)


#: ``series_struct`` replies read so far, by (JSOC URL, lower-case series name).
_SERIES_CACHE: dict[tuple[str, str], SeriesInfo] = {}


class JSOCInfo:
    """
    ``jsoc_info`` requests against one JSOC base URL.

    Parameters
    ----------
    base_url : str
        JSOC base URL (``http://jsoc.stanford.edu/``); ``cgi-bin/ajax/jsoc_info`` is appended.
    session : requests.Session, optional
        Session to reuse.
    timeout : float, optional
        Seconds to wait for one reply (default ``conf.info_timeout``, 120 s).
    """

    def __init__(self, base_url: str, session: requests.Session | None = None, timeout: float | None = None) -> None:
        self.url = base_url.rstrip("/") + "/cgi-bin/ajax/jsoc_info"
        self.session = session or requests.Session()
        self.timeout = conf_value("info_timeout") if timeout is None else timeout

    def _get(self, params: dict) -> dict:
        log.debug("jsoc_info %s", params)
        try:
            reply = self.session.get(self.url, params=params, timeout=self.timeout)
            reply.raise_for_status()
            data = reply.json()
        except (requests.RequestException, ValueError) as err:
            msg = f"Could not read JSOC metadata from {self.url} ({err}); check the network or the JSOC URL setting."
            raise JSOCInfoError(msg) from err
        if data.get("status", 0) != 0:
            msg = f"JSOC refused the metadata request for {params.get('ds')!r}: {data.get('error', data)}"
            unknown = "series not found" in str(data.get("error", ""))
            raise (SeriesNotFoundError if unknown else JSOCInfoError)(msg)
        return data

    def series_struct(self, series: str) -> dict:
        """The ``series_struct`` reply of ``series`` (prime keys, keywords, segments...)."""
        return self._get({"op": "series_struct", "ds": series})

    def series(self, series: str) -> SeriesInfo:
        """The keyword, segment and prime-key names of ``series`` (one ``series_struct`` per JSOC URL)."""
        key = (self.url, series.lower())
        if key not in _SERIES_CACHE:
            reply = self.series_struct(series)
            _SERIES_CACHE[key] = SeriesInfo(
                series,
                tuple(k["name"] for k in reply.get("keywords", [])),
                tuple(s["name"] for s in reply.get("segments", [])),
                tuple(reply.get("primekeys", [])),
            )
        return _SERIES_CACHE[key]

    def count(self, ds: str) -> int:
        """How many records ``ds`` holds (``rs_summary``)."""
        return int(self._get({"op": "rs_summary", "ds": ds}).get("count", 0))

    def rs_list(self, ds: str, keys: Sequence[str], segs: Sequence[str] = (), n: int | None = None) -> dict[str, list]:
        """
        Keyword (and segment) values of the records of ``ds``, as ``{name: [values]}``.

        Segment columns are keyed ``"segment:<name>"`` and hold JSOC's path, or
        ``"NoDataDirectory"`` for a record without an image.
        """
        params = {"op": "rs_list", "ds": ds, "key": ",".join(keys)}
        if segs:
            params["seg"] = ",".join(segs)
        if n:
            params["n"] = str(n)
        data = self._get(params)
        columns: dict[str, list] = {name: [] for name in keys}
        for entry in data.get("keywords", []):
            columns[entry["name"]] = list(entry["values"])
        for entry in data.get("segments", []):
            columns[f"segment:{entry['name']}"] = list(entry["values"])
        columns["_count"] = [int(data.get("count", 0))]
        return columns
