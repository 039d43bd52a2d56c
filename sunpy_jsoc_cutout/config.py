"""
Configuration of the JSOC cutout client.

Fido builds clients without arguments, so where the client talks to, and how politely, comes from
here. The JSOC base URL is looked up, in order, from:

1. the innermost `use_jsoc` context manager,
2. the environment variable ``SUNPY_JSOC_CUTOUT_URL``,
3. the astropy configuration item ``conf.url`` (default ``http://jsoc.stanford.edu/``), settable
   in the ``[sunpy_jsoc_cutout]`` section of ``sunpy_jsoc_cutout.cfg`` or with
   ``conf.set_temp("url", ...)``.

Every item is read through `conf_value`, which checks it against its allowed range and raises
`~sunpy_jsoc_cutout.exceptions.ConfigurationError` naming the item, its value and what is
allowed, before anything is sent to JSOC.

Examples
--------
>>> from sunpy_jsoc_cutout.config import base_url, use_jsoc
>>> with use_jsoc("http://127.0.0.1:8123/"):
...     base_url()
'http://127.0.0.1:8123/'
"""

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from astropy.config import ConfigItem, ConfigNamespace

from sunpy import config as sunpy_config

from .exceptions import ConfigurationError

__all__ = [
    "ENV_URL",
    "FETCH_SETTINGS",
    "NOAA_SERIES",
    "NOAA_SERIES_INTERNAL",
    "SEARCH_SETTINGS",
    "SETTINGS",
    "Setting",
    "base_url",
    "check_settings",
    "conf",
    "conf_value",
    "download_dir",
    "ledger_path",
    "use_jsoc",
]

#: The environment variable that overrides ``conf.url``.
ENV_URL = "SUNPY_JSOC_CUTOUT_URL"

#: The NOAA active-region series the JSOC export page queries (``processing.js`` ``ImPatchGetNoaa``),
#: the default of ``conf.noaa_series``: the public JSOC's copy of the NOAA regions
#: (``lm-jps/proj:export/scripts/export_db_functions.sql`` L1-30 copies ``su_rsb.noaa_activeregions``
#: into it on the public database, hmidb2).
NOAA_SERIES = "jsoc.noaa_active_regions"
#: The series the export page reads through the internal ``jsoc_info_jsoc2`` (``processing.js``);
#: the client falls back to it where the public copy does not exist.
NOAA_SERIES_INTERNAL = "su_rsb.NOAA_ActiveRegions"


class Conf(ConfigNamespace):
    """Configuration items of ``sunpy_jsoc_cutout``."""

    url = ConfigItem("http://jsoc.stanford.edu/", "Base URL of the JSOC (cgi-bin/ajax/ is appended).")
    noaa_series = ConfigItem(
        NOAA_SERIES,
        f"JSOC series holding NOAA active regions ({NOAA_SERIES_INTERNAL} is asked where it does not exist).",
    )
    record_limit_aia = ConfigItem(15000, "Most records in one export request of an AIA series.")
    record_limit_hmi = ConfigItem(32000, "Most records in one export request of an HMI series.")
    request_byte_limit = ConfigItem(50e9, "Most estimated bytes in one export request (JSOC refuses 100,000 MB).")
    tape_staging_time = ConfigItem(
        300.0,
        "Estimated seconds JSOC needs to bring one request's offline (tape) data online; nearline "
        "access takes 'several minutes' (JSOC's description, http://jsoc.stanford.edu/ROSES_2008/index.html).",
    )
    staging_per_record = ConfigItem(1.0, "Estimated JSOC staging seconds per cutout (for sizing pipelined requests).")
    download_rate = ConfigItem(5e6, "Estimated download bytes per second from JSOC (for sizing pipelined requests).")
    request_overhead = ConfigItem(20.0, "Estimated fixed seconds JSOC spends on each export request.")
    max_conn = ConfigItem(1, "Download connections to JSOC (JSOC asks for one).")
    download_batch = ConfigItem(
        1,
        "Files downloaded per parfive run; each run's files get their final names before the next starts, "
        "so a killed fetch never downloads a finished file again (at least 1; a large value downloads all "
        "files of a request in one run).",
    )
    download_retries = ConfigItem(
        3, "Times a file whose download failed in transport (5xx, reset, timeout) is tried again in one fetch."
    )
    info_retries = ConfigItem(
        3, "Times a jsoc_info (metadata) request that failed in transport (5xx, reset, timeout) is tried again."
    )
    retry_wait = ConfigItem(
        2.0, "Seconds before the first retry of a failed file download or jsoc_info request (doubled each time)."
    )
    min_poll = ConfigItem(2.0, "Shortest interval between two status requests for one export, in seconds.")
    max_poll = ConfigItem(60.0, "Longest interval between two status requests for one export, in seconds.")
    export_timeout = ConfigItem(6 * 3600.0, "Give up waiting for one export after this many seconds.")
    page_size = ConfigItem(20000, "Most records asked of jsoc_info in one search request.")
    info_timeout = ConfigItem(120.0, "Seconds to wait for one jsoc_info reply before giving up on it.")
    fetch_timeout = ConfigItem(60.0, "Seconds to wait for one jsoc_fetch (export request or status) reply.")
    ledger = ConfigItem(
        "", "Path of the request ledger (empty: sunpy's download directory/.jsoc_cutout_ledger.sqlite)."
    )


conf = Conf()
_overrides: list[str] = []


@dataclass(frozen=True)
class Setting:
    """
    What a ``conf`` item may hold.

    Parameters
    ----------
    kind : str
        ``"int"`` (a whole number), ``"float"`` (a finite number), ``"text"`` or ``"path"``.
    low : float or None
        Smallest allowed value (None: no bound).
    above : bool
        The value must be strictly above ``low`` rather than at least ``low``.
    meaning : str
        What the item counts, for the message.
    """

    kind: str
    low: float | None = None
    above: bool = False
    meaning: str = ""

    def describe(self) -> str:
        """The allowed range in words (``"a whole number of at least 1"``)."""
        noun = {"int": "a whole number", "float": "a number", "text": "a non-empty text", "path": "a path"}[self.kind]
        if self.low is None:
            return noun
        bound = f"{self.low:g}" if self.kind == "float" else f"{int(self.low)}"
        return f"{noun} {'above' if self.above else 'of at least'} {bound}"


#: The allowed values of every ``conf`` item the client reads.
SETTINGS = {
    "url": Setting("text", meaning="the JSOC base URL"),
    "noaa_series": Setting("text", meaning="the JSOC series holding NOAA active regions"),
    "record_limit_aia": Setting("int", 1, meaning="records in one export request of an AIA series"),
    "record_limit_hmi": Setting("int", 1, meaning="records in one export request of an HMI series"),
    "request_byte_limit": Setting("float", 1e6, meaning="estimated bytes in one export request"),
    "tape_staging_time": Setting("float", 0, meaning="estimated seconds to bring one request's tape data online"),
    "staging_per_record": Setting("float", 0, meaning="estimated JSOC seconds per cutout"),
    "download_rate": Setting("float", 0, above=True, meaning="estimated download bytes per second"),
    "request_overhead": Setting("float", 0, above=True, meaning="estimated fixed seconds per export request"),
    "max_conn": Setting("int", 1, meaning="download connections"),
    "download_batch": Setting("int", 1, meaning="files downloaded per parfive run"),
    "download_retries": Setting("int", 0, meaning="retries of a file download that failed in transport"),
    "info_retries": Setting("int", 0, meaning="retries of a jsoc_info request that failed in transport"),
    "retry_wait": Setting("float", 0, meaning="seconds before the first retry of a download or jsoc_info request"),
    "min_poll": Setting("float", 0, above=True, meaning="shortest seconds between two status requests"),
    "max_poll": Setting("float", 0, above=True, meaning="longest seconds between two status requests"),
    "export_timeout": Setting("float", 0, above=True, meaning="seconds to wait for one export"),
    "page_size": Setting("int", 1, meaning="records asked of jsoc_info in one search request"),
    "info_timeout": Setting("float", 0, above=True, meaning="seconds to wait for one jsoc_info reply"),
    "fetch_timeout": Setting("float", 0, above=True, meaning="seconds to wait for one jsoc_fetch reply"),
    "ledger": Setting("path", meaning="path of the request ledger; empty for the default"),
}

#: The settings a search reads (checked together before its first request).
SEARCH_SETTINGS = (
    "url",
    "noaa_series",
    "page_size",
    "info_timeout",
    "info_retries",
    "retry_wait",
    "record_limit_aia",
    "record_limit_hmi",
    "request_byte_limit",
    "staging_per_record",
    "download_rate",
    "request_overhead",
    "tape_staging_time",
)

#: The settings a fetch reads (checked together before its first request).
FETCH_SETTINGS = (
    "url",
    "max_conn",
    "download_batch",
    "download_retries",
    "retry_wait",
    "min_poll",
    "max_poll",
    "export_timeout",
    "fetch_timeout",
    "ledger",
)


def _refuse(name: str, value, setting: Setting, extra: str = "") -> ConfigurationError:
    return ConfigurationError(
        f"conf.{name} is {value!r}; it must be {extra or setting.describe()} ({setting.meaning}). Change it with "
        f"conf.set_temp({name!r}, ...) or in the [sunpy_jsoc_cutout] section of sunpy_jsoc_cutout.cfg."
    )


def conf_value(name: str):
    """
    The value of ``conf.<name>``, checked against its allowed range (`SETTINGS`).

    Parameters
    ----------
    name : str
        A configuration item, e.g. ``"page_size"``.

    Returns
    -------
    int, float or str
        The value, as an `int` for whole-number items and a `float` for numbers.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.ConfigurationError
        If the value is of the wrong type or out of range; the message names the item, its
        value and the values allowed.

    Examples
    --------
    >>> from sunpy_jsoc_cutout.config import conf, conf_value
    >>> with conf.set_temp("page_size", 0):
    ...     conf_value("page_size")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ConfigurationError: conf.page_size is 0; it must be a whole number of at least 1 (...)
    """
    setting = SETTINGS[name]
    try:
        value = getattr(conf, name)
    except (TypeError, ValueError) as err:  # a bad value in the configuration file
        raise _refuse(name, f"<unreadable: {err}>", setting) from None
    if setting.kind in ("text", "path"):
        if not isinstance(value, str) or (setting.kind == "text" and not value.strip()):
            raise _refuse(name, value, setting)
        return value
    whole = isinstance(value, int) and not isinstance(value, bool)
    number = whole or (isinstance(value, float) and math.isfinite(value))
    if (setting.kind == "int" and not whole) or not number:
        raise _refuse(name, value, setting)
    if setting.low is not None and (value <= setting.low if setting.above else value < setting.low):
        raise _refuse(name, value, setting)
    if name == "max_poll" and value < conf_value("min_poll"):
        raise _refuse(name, value, setting, f"at least conf.min_poll ({conf.min_poll!r})")
    return int(value) if setting.kind == "int" else float(value)


def check_settings(names) -> dict:
    """
    `conf_value` of each of ``names`` (e.g. `SEARCH_SETTINGS`), as a dict; the first bad one raises.
    """
    return {name: conf_value(name) for name in names}


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def base_url() -> str:
    """
    The JSOC base URL in use (ends with ``/``).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.ConfigurationError
        If it is not an ``http://`` or ``https://`` address with a host; the message says where
        it came from.
    """
    if _overrides:
        url, source = _overrides[-1], "use_jsoc(...)"
    elif os.environ.get(ENV_URL):
        url, source = os.environ[ENV_URL], f"the environment variable {ENV_URL}"
    else:
        url, source = conf_value("url"), "conf.url"
    try:
        parts = urlsplit(url)
        good = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # e.g. a port that is not a number
        good = False
    if not good or parts.query or parts.fragment:
        raise ConfigurationError(
            f"The JSOC URL {url!r} (from {source}) is not an http:// or https:// address of a server; give one "
            "such as 'http://jsoc.stanford.edu/' (cgi-bin/ajax/... is appended to it)."
        )
    return _with_slash(url)


@contextlib.contextmanager
def use_jsoc(url: str) -> Iterator[str]:
    """
    Send every request made inside the ``with`` block to ``url`` (e.g. an emulator's ``.url``).

    Parameters
    ----------
    url : str
        Base URL such as ``http://jsoc.stanford.edu/`` or ``JSOCEmulator.url``.

    Examples
    --------
    >>> from sunpy_jsoc_cutout.config import base_url, use_jsoc
    >>> with use_jsoc("http://127.0.0.1:9999"):
    ...     print(base_url())
    http://127.0.0.1:9999/
    """
    _overrides.append(str(url))
    try:
        yield base_url()
    finally:
        _overrides.pop()


def download_dir() -> Path:
    """sunpy's download directory (``[downloads] download_dir`` of sunpy's configuration)."""
    return Path(sunpy_config.get("downloads", "download_dir")).expanduser()


def ledger_path() -> Path:
    """Where the request ledger lives (``conf.ledger``, or beside sunpy's download directory)."""
    ledger = conf_value("ledger")
    if ledger.strip():
        return Path(ledger).expanduser()
    return download_dir() / ".jsoc_cutout_ledger.sqlite"
