"""
Configuration of the JSOC cutout client.

Fido builds clients without arguments, so where the client talks to, and how politely, comes from
here. The JSOC base URL is looked up, in order, from:

1. the innermost `use_jsoc` context manager,
2. the environment variable ``SUNPY_JSOC_CUTOUT_URL``,
3. the astropy configuration item ``conf.url`` (default ``http://jsoc.stanford.edu/``), settable
   in the ``[sunpy_jsoc_cutout]`` section of ``sunpy_jsoc_cutout.cfg`` or with
   ``conf.set_temp("url", ...)``.

Examples
--------
>>> from sunpy_jsoc_cutout.config import base_url, use_jsoc
>>> with use_jsoc("http://127.0.0.1:8123/"):
...     base_url()
'http://127.0.0.1:8123/'
"""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from astropy.config import ConfigItem, ConfigNamespace

from sunpy import config as sunpy_config

__all__ = ["ENV_URL", "base_url", "conf", "download_dir", "ledger_path", "use_jsoc"]

#: The environment variable that overrides ``conf.url``.
ENV_URL = "SUNPY_JSOC_CUTOUT_URL"


class Conf(ConfigNamespace):
    """Configuration items of ``sunpy_jsoc_cutout``."""

    url = ConfigItem("http://jsoc.stanford.edu/", "Base URL of the JSOC (cgi-bin/ajax/ is appended).")
    noaa_series = ConfigItem("su_rsb.NOAA_ActiveRegions", "JSOC series holding NOAA active regions.")
    record_limit_aia = ConfigItem(15000, "Most records in one export request of an AIA series.")
    record_limit_hmi = ConfigItem(32000, "Most records in one export request of an HMI series.")
    request_byte_limit = ConfigItem(50e9, "Most estimated bytes in one export request (JSOC refuses 100,000 MB).")
    tape_staging_time = ConfigItem(
        300.0,
        "Estimated seconds JSOC needs to bring one request's offline (tape) data online; nearline "
        "access takes 'several minutes' (jsoc_timings: ROSES 2008 JSOC description).",
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
    min_poll = ConfigItem(2.0, "Shortest interval between two status requests for one export, in seconds.")
    max_poll = ConfigItem(60.0, "Longest interval between two status requests for one export, in seconds.")
    export_timeout = ConfigItem(6 * 3600.0, "Give up waiting for one export after this many seconds.")
    page_size = ConfigItem(20000, "Most records asked of jsoc_info in one search request.")
    ledger = ConfigItem(
        "", "Path of the request ledger (empty: sunpy's download directory/.jsoc_cutout_ledger.sqlite)."
    )


conf = Conf()
_overrides: list[str] = []


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


def base_url() -> str:
    """The JSOC base URL in use (ends with ``/``)."""
    if _overrides:
        return _with_slash(_overrides[-1])
    return _with_slash(os.environ.get(ENV_URL) or conf.url)


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
    if conf.ledger:
        return Path(conf.ledger).expanduser()
    return download_dir() / ".jsoc_cutout_ledger.sqlite"
