"""
A thin ``jsoc_info`` client: the metadata requests of a search (``rs_list``, ``series_struct``).

It asks only for the keywords it is given and pages large record sets, so searches of 100,000
records stay fast. Keyword values come back as JSOC sends them (strings); `int_keyword` reads
hex ``QUALITY`` strings (``"0x00000400"``) that pandas-based readers turn into NaN.
"""

from collections.abc import Sequence

import requests

from sunpy import log

from .exceptions import JSOCCutoutError

__all__ = ["JSOCInfo", "JSOCInfoError", "int_keyword"]


class JSOCInfoError(JSOCCutoutError, RuntimeError):
    """JSOC's ``jsoc_info`` refused a metadata request, or could not be reached."""


def int_keyword(value) -> int:
    """An integer keyword from JSOC's string (``"0x80000000"``, ``"-2147483648"``, ``"1024"``) as signed 32-bit."""
    text = str(value).strip()
    number = int(text, 16) if text.lower().startswith("0x") else int(float(text))
    return number - (1 << 32) if number >= (1 << 31) else number


class JSOCInfo:
    """
    ``jsoc_info`` requests against one JSOC base URL.

    Parameters
    ----------
    base_url : str
        JSOC base URL (``http://jsoc.stanford.edu/``); ``cgi-bin/ajax/jsoc_info`` is appended.
    session : requests.Session, optional
        Session to reuse.
    timeout : float
        Seconds to wait for one reply.
    """

    def __init__(self, base_url: str, session: requests.Session | None = None, timeout: float = 120.0) -> None:
        self.url = base_url.rstrip("/") + "/cgi-bin/ajax/jsoc_info"
        self.session = session or requests.Session()
        self.timeout = timeout
        self.calls = 0

    def _get(self, params: dict) -> dict:
        self.calls += 1
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
            raise JSOCInfoError(msg)
        return data

    def series_struct(self, series: str) -> dict:
        """The ``series_struct`` reply of ``series`` (prime keys, keywords, segments...)."""
        return self._get({"op": "series_struct", "ds": series})

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
