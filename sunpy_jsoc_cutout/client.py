"""
The Fido client: ``Fido.search`` plans JSOC cutout exports, ``Fido.fetch`` runs them.

Importing ``sunpy_jsoc_cutout`` registers `JSOCCutoutClient` with Fido (result key
``jsoccutout``) and its attrs as ``a.jsoc_cutout``.
"""

import sunpy
from sunpy import log
from sunpy.net import attrs as a
from sunpy.net.attr import and_
from sunpy.net.base_client import BaseClient
from sunpy.net.jsoc.attrs import KeywordComparison

from . import attrs as jc
from ._jsoc.info import JSOCInfo
from ._plan.checks import check_block, check_files
from ._plan.names import refuse_collisions
from ._plan.series_rules import registered_series
from ._query.walker import walker
from ._search import search_block, split_for_jsoc
from .config import SEARCH_SETTINGS, base_url, check_settings
from .exceptions import JSOCCutoutError
from .response import JSOCCutoutResponse, build_table

__all__ = ["JSOCCutoutClient"]

#: sunpy attrs the client accepts beside its own.
SUNPY_ATTRS = (
    a.Time,
    a.Wavelength,
    a.Sample,
    a.jsoc.Series,
    a.jsoc.Notify,
    a.jsoc.Segment,
    a.jsoc.Keyword,
    KeywordComparison,
    a.jsoc.PrimeKey,
    a.jsoc.Protocol,
    a.jsoc.Cutout,
)
OUR_ATTRS = tuple(getattr(jc, name) for name in jc.__all__)


def _sunpy_version() -> tuple[int, int]:
    major, minor, *_ = ([*sunpy.__version__.split("."), "0", "0"])[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def _fido_keeps_search_errors() -> bool:
    """Whether this sunpy's Fido stores a client's search exception in ``.errors`` (sunpy >= 7.1)."""
    return _sunpy_version() >= (7, 1)


class JSOCCutoutClient(BaseClient):
    """
    Cutouts of SDO/AIA and SDO/HMI data made on the JSOC by its ``im_patch`` service.

    A query needs a series (``a.jsoc.Series``), a time range (``a.Time``, or limb-to-limb
    tracking), a cutout box (``a.jsoc_cutout.Box`` or ``a.jsoc_cutout.ActiveRegion``) and, to
    fetch, a JSOC-registered e-mail address (``a.jsoc.Notify``). ``search`` lists the records the
    export requests will turn into files, flags those JSOC will skip and estimates the sizes;
    ``fetch`` submits the requests one at a time, as JSOC asks, and downloads the cutouts.

    The JSOC URL comes from `sunpy_jsoc_cutout.config` (``SUNPY_JSOC_CUTOUT_URL`` or
    ``use_jsoc(url)`` for the offline emulator).

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy.net import Fido, attrs as a
    >>> import sunpy_jsoc_cutout  # registers a.jsoc_cutout
    >>> query = (
    ...     a.Time("2014-02-05 08:00", "2014-02-05 09:00"),
    ...     a.jsoc.Series("aia.lev1_euv_12s"),
    ...     a.Wavelength(171 * u.AA),
    ...     a.jsoc_cutout.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec),
    ...     a.jsoc.Notify("you@example.org"),
    ... )
    >>> result = Fido.search(*query)  # doctest: +REMOTE_DATA
    """

    @property
    def info_url(self) -> str:
        return base_url()

    @classmethod
    def _attrs_module(cls):
        return "jsoc_cutout", "sunpy_jsoc_cutout.attrs"

    @classmethod
    def register_values(cls) -> dict:
        return {
            a.jsoc.Series: registered_series(),
            jc.Method: [("url", "One file per record"), ("url-tar", "One tar file per request")],
            jc.ExportProtocol: [("fits", "FITS with full headers"), ("as-is", "Files as stored")]
            + [(p, f"{p} images made by JSOC") for p in ("jpg", "mpg", "mp4")],
        }

    @classmethod
    def _can_handle_query(cls, *query) -> bool:
        """True only for queries holding at least one ``a.jsoc_cutout`` attr (so sunpy's clients decline them)."""
        types = {type(attr) for attr in query}
        return bool(types & set(OUR_ATTRS)) and types <= set(OUR_ATTRS) | set(SUNPY_ATTRS)

    def search(self, *query) -> JSOCCutoutResponse:
        """
        Plan the exports of a query and list the records they will export.

        Every check that can be made without JSOC runs before anything is sent.

        Returns
        -------
        `~sunpy_jsoc_cutout.response.JSOCCutoutResponse`
        """
        try:
            return self._search(*query)
        except JSOCCutoutError as err:
            if _fido_keeps_search_errors():
                log.error("JSOC cutout search failed: %s", err)
            raise

    def _search(self, *query) -> JSOCCutoutResponse:
        blocks = walker.create(and_(*query))
        checked = [(block, check_block(block)) for block in blocks]
        cfg = check_settings(SEARCH_SETTINGS)  # every setting the search reads, before anything is sent
        info = JSOCInfo(base_url())
        requests = []
        for block, rules in checked:
            found = search_block(info, block, rules, page_size=cfg["page_size"], noaa_series=cfg["noaa_series"])
            check_files(block, found)  # no export is planned that could give no file
            requests += split_for_jsoc(found)
        refuse_collisions(requests)  # no two planned files of the job with one name
        notify = next((b["notify"] for b in blocks if b.get("notify")), None)
        method = next((b["method"] for b in blocks if b.get("method")), "url")
        return build_table(requests, self, notify, method)

    def fetch(self, query_results, *, path=None, downloader=None, **kwargs):
        """Download the cutouts of ``query_results``; see `sunpy_jsoc_cutout._fetch.fetch`."""
        from ._fetch import fetch  # noqa: PLC0415

        return fetch(self, query_results, path=path, downloader=downloader, **kwargs)
