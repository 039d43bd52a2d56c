"""
A thin ``jsoc_info`` client: the metadata requests of a search (``rs_list``, ``series_struct``).

It asks only for the keywords it is given and pages large record sets, so searches of 100,000
records stay fast. Keyword values come back as JSOC sends them (strings), read with
`~sunpy_jsoc_cutout._plan.jsoc_text` (``int_keyword`` reads hex ``QUALITY`` strings such as
``"0x00000400"`` that pandas-based readers turn into NaN).

What real series lack is read the way ``jsoc_info`` answers it (``lm-jps/drms``
``base/export/apps/jsoc_info.c``): a keyword the series does not have comes back as the value
``"Invalid KeyLink"`` for every record (no error status), a value that is not set as
``"MISSING"``. `JSOCInfo.series` reads each series' ``series_struct`` once per JSOC URL so that
a search asks only for keywords the series has (real AIA series have no ``CALVER64``, real HMI
series no ``HGLN_OBS``/``HGLT_OBS``/``EXPTIME``: the ``series_struct`` replies of
``aia.lev1_euv_12s`` and ``hmi.M_45s`` recorded in sunpy/sunpy's test cassettes, 2020).
"""

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import quote, urlencode, urlsplit

import numpy as np
import requests
import urllib3

import astropy.units as u
from astropy.time import Time

from sunpy import log

from sunpy_jsoc_cutout._plan.jsoc_text import drms_time
from sunpy_jsoc_cutout._plan.noaa import noaa_query
from sunpy_jsoc_cutout._plan.recordset import RecordSet, page_recordsets
from sunpy_jsoc_cutout._plan.rows import REFERENCE_KEYS, ROW_KEYS, pick_reference
from sunpy_jsoc_cutout._plan.series_rules import SeriesInfo, SeriesRules
from sunpy_jsoc_cutout._query.box import NOAA_SERIES, NOAA_SERIES_INTERNAL, ActiveRegion
from sunpy_jsoc_cutout.config import conf_value
from sunpy_jsoc_cutout.exceptions import CutoutQueryError, JSOCInfoError, SeriesNotFoundError

__all__ = [
    "JSOCInfo",
    "list_pages",
    "list_records",
    "noaa_records",
    "records_by_recnum",
    "reference_keywords",
]


#: HTTP statuses worth asking again for, of jsoc_info replies and file downloads alike (the
#: server's trouble, not the request's).
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
#: Longest pause before one retry (of a jsoc_info call or a file download), in seconds.
RETRY_CAP = 60.0


def transient(error: Exception) -> bool:
    """
    Whether a failed ``jsoc_info`` call is worth repeating: a reset, timeout or 5xx/408/429 reply;
    not a host name that does not resolve (no network, or a wrong JSOC URL: asking again only
    delays the message).
    """
    if isinstance(error, requests.HTTPError):
        return error.response is not None and error.response.status_code in RETRY_STATUS
    if _unresolved(error):
        return False
    return isinstance(error, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError))


def _unresolved(error: BaseException) -> bool:
    """Whether ``error`` is requests' wrapping of a failed name lookup (urllib3's retry error and its reason)."""
    retry = error.args[0] if error.args else None
    return isinstance(getattr(retry, "reason", None), urllib3.exceptions.NameResolutionError)


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

    def _reply(self, params: dict) -> dict:
        """One ``jsoc_info`` call; transport faults are tried again (`transient`), with growing pauses."""
        retries, wait = conf_value("info_retries"), conf_value("retry_wait")
        for attempt in range(retries + 1):
            log.debug("jsoc_info %s", params)
            try:
                reply = self.session.get(self.url, params=params, timeout=self.timeout)
                reply.raise_for_status()
                return reply.json()
            except (requests.RequestException, ValueError) as err:
                if attempt == retries or not transient(err):
                    msg = f"Could not read JSOC metadata from {self.url} ({err}); "
                    msg += "check the network or the JSOC URL setting."
                    raise JSOCInfoError(msg) from err
                pause = min(wait * 2**attempt, RETRY_CAP)
                log.info("jsoc_info failed (%s); trying again in %.0f s (%d of %d)", err, pause, attempt + 1, retries)
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _get(self, params: dict) -> dict:
        data = self._reply(params)
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


def reference_keywords(info: JSOCInfo, rules: SeriesRules, t_ref: Time, wavelength: int | None) -> dict:
    """Keywords of the good record nearest ``t_ref`` (searching up to about 2 h either side, like im_patch)."""
    keys = info.series(rules.name).present(REFERENCE_KEYS)
    conditions = ["QUALITY >= 0"]
    prime = ""
    if wavelength is not None and rules.wavelength_is_prime_key:
        prime = f"[{wavelength}]"
    elif wavelength is not None:
        conditions.insert(0, f"WAVELNTH={wavelength}")
    half = 60.0
    while half <= 7680.0:
        lo, hi = (t_ref + s * half * u.s for s in (-1, 1))
        ds = f"{rules.name}[{drms_time(lo)}-{drms_time(hi)}]{prime}[? {' AND '.join(conditions)} ?]"
        columns = info.rs_list(ds, keys)
        count = columns.pop("_count")[0]
        if count:
            return pick_reference(columns, t_ref)
        half *= 2
    msg = f"{rules.name} has no good record within 2 hours of the reference time {t_ref.isot}; choose another time."
    raise CutoutQueryError(msg)


def _pages(info: JSOCInfo, recordset: RecordSet, page_size: int) -> list[RecordSet]:
    """Split a time-range record set into pieces of at most about ``page_size`` records."""
    if recordset.time is None:
        return [recordset]
    count = info.count(recordset.render())
    if count <= page_size:
        return [recordset]
    return page_recordsets(recordset, math.ceil(count / page_size) + 1)


def prefetched(calls: Iterable[Callable[[], dict]]) -> Iterator[dict]:
    """
    The replies of ``calls`` in order, each next call made while the caller reads the reply before.

    One worker thread makes the calls one after another, so that never more than one request is
    in flight (polite to JSOC) while the caller's parsing of page N overlaps the wait for page N+1.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jsoc_info")
    pending: Future | None = None
    try:
        for call in calls:
            future = pool.submit(call)
            if pending is not None:
                yield pending.result()
            pending = future
        if pending is not None:
            yield pending.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _page_columns(columns: dict[str, list]) -> dict[str, np.ndarray]:
    """One ``rs_list`` reply's columns as object arrays (its ``_count`` dropped)."""
    columns.pop("_count", None)
    return {key: np.asarray(values, dtype=object) for key, values in columns.items()}


def list_pages(
    info: JSOCInfo, recordset: RecordSet, segment: str | None, page_size: int, keys: tuple[str, ...] = ROW_KEYS
) -> Iterator[dict[str, np.ndarray]]:
    """
    Keywords ``keys`` of the records of ``recordset``, one page (`_pages`) at a time, the next page
    asked for while the caller reads one (`prefetched`); empty pages are left out. Pages may share
    records at their edges.
    """
    segs = (segment,) if segment else ()
    calls = (lambda ds=piece.render(): info.rs_list(ds, keys, segs) for piece in _pages(info, recordset, page_size))
    for columns in prefetched(calls):
        page = _page_columns(columns)
        if len(page.get("*recnum*", ())):
            yield page


def first_of_each(recnums: np.ndarray) -> np.ndarray:
    """Indices of the first row of each record number, in row order (page-edge duplicates dropped)."""
    _, first = np.unique(np.asarray(recnums, dtype=np.int64), return_index=True)
    return np.sort(first)


def list_records(
    info: JSOCInfo, recordset: RecordSet, segment: str | None, page_size: int, keys: tuple[str, ...] = ROW_KEYS
) -> dict[str, np.ndarray]:
    """Keywords ``keys`` of every record of ``recordset`` (paged; duplicates at page edges dropped)."""
    pages = list(list_pages(info, recordset, segment, page_size, keys))
    if not pages:
        return {}
    merged = {key: np.concatenate([page[key] for page in pages]) for key in pages[0]}
    keep = first_of_each(merged["*recnum*"])
    return {key: values[keep] for key, values in merged.items()}


#: Most record numbers named in one ``jsoc_info`` call of `records_by_recnum` (``series[:#r1,#r2,...]``);
#: fewer where the URL would pass `URL_LIMIT`.
RECNUMS_PER_CALL = 1000
#: Longest request line sent (Apache's ``LimitRequestLine`` is 8190 bytes; JSOC runs Apache), with a margin.
URL_LIMIT = 7900


def _recnum_chunks(info: JSOCInfo, series: str, recnums: Sequence[int], params: dict) -> list[list[int]]:
    """
    ``recnums`` in runs that fit in one request line: the characters of ``GET <path>?<query> HTTP/1.1``
    counted as sent (``#`` and ``,`` percent-encoded), at most `RECNUMS_PER_CALL` a run, and the runs
    of even length (no short last call).
    """
    fixed = len("GET ") + len(urlsplit(info.url).path) + len("?") + len(urlencode(params)) + len(" HTTP/1.1")
    fixed += len("&ds=") + len(quote(f"{series}[:]", safe=""))
    greedy = _runs(recnums, fixed, RECNUMS_PER_CALL)
    if len(greedy) < 2:
        return greedy
    return _runs(recnums, fixed, math.ceil(len(recnums) / len(greedy)))


def _runs(recnums: Sequence[int], fixed: int, most: int) -> list[list[int]]:
    """Consecutive runs of at most ``most`` record numbers whose request line stays within `URL_LIMIT`."""
    chunks: list[list[int]] = []
    chunk: list[int] = []
    length = fixed
    for recnum in recnums:
        extra = len(str(int(recnum))) + len("%23%2C")  # "#<recnum>," percent-encoded
        if chunk and (length + extra > URL_LIMIT or len(chunk) >= most):
            chunks.append(chunk)
            chunk, length = [], fixed
        chunk.append(int(recnum))
        length += extra
    return [*chunks, chunk] if chunk else chunks


def records_by_recnum(
    info: JSOCInfo, series: str, recnums: Sequence[int], segment: str | None, keys: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """
    Keywords ``keys`` (and ``segment``) of the records ``recnums`` of ``series``, in that order:
    ``series[:#r1,#r2,...]`` (DRMS's record-number list, ``lm-jps/drms:base/drms/doc/drms_names.txt``),
    as many a call as fit in a request line (`_recnum_chunks`), the next call made while one is read.
    """
    segs = (segment,) if segment else ()
    keys = keys if "*recnum*" in keys else ("*recnum*", *keys)
    params = {"op": "rs_list", "key": ",".join(keys), **({"seg": ",".join(segs)} if segs else {})}
    chunks = _recnum_chunks(info, series, recnums, params)
    calls = (
        lambda ds=f"{series}[:{','.join(f'#{r}' for r in chunk)}]": info.rs_list(ds, keys, segs) for chunk in chunks
    )
    pages = [_page_columns(columns) for columns in prefetched(calls)]
    names = list(pages[0]) if pages else [*keys, *(f"segment:{s}" for s in segs)]
    merged = {key: np.concatenate([page.get(key, np.array([], dtype=object)) for page in pages]) for key in names}
    if not len(merged.get("*recnum*", ())):
        return {key: np.array([], dtype=object) for key in merged}
    where = {int(r): i for i, r in enumerate(merged["*recnum*"])}
    order = [where[int(r)] for r in recnums]
    return {key: values[order] for key, values in merged.items()}


def noaa_records(info: JSOCInfo, region: ActiveRegion, noaa_series: str | None) -> list[dict]:
    """
    The region's NOAA records: from ``noaa_series`` (``conf.noaa_series``) for a region of the
    default series, else from the region's own; ``su_rsb.NOAA_ActiveRegions`` where the public copy
    ``jsoc.noaa_active_regions`` does not exist on the server.
    """
    series = noaa_series if noaa_series and region.series == NOAA_SERIES else region.series
    candidates = [series] + ([NOAA_SERIES_INTERNAL] if series.lower() == NOAA_SERIES else [])
    for k, name in enumerate(candidates):
        try:
            query = noaa_query(region, name)
            rows = info.rs_list(query["ds"], query["key"].split(","))
        except SeriesNotFoundError:
            if k + 1 == len(candidates):
                raise
            log.debug("%s is not served here; asking %s", name, candidates[k + 1])
            continue
        count = rows.pop("_count")[0]
        if count or k + 1 == len(candidates):
            return [dict(zip(rows, values)) for values in zip(*rows.values())] if count else []
    return []
