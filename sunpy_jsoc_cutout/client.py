"""
The Fido client: ``Fido.search`` plans JSOC cutout exports, ``Fido.fetch`` runs them.

Importing ``sunpy_jsoc_cutout`` registers `JSOCCutoutClient` with Fido (result key
``jsoccutout``) and its attrs as ``a.jsoc_cutout``.
"""

import os

import parfive

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
from ._transfer.report import JobReport
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

    #: The report of the last `fetch`, a `~sunpy_jsoc_cutout.jobs.JobReport` (`None` before one).
    #: It lists the rows JSOC skipped, the requests that failed or were refused and the planned
    #: files that did not arrive, and counts the files that did. With Fido, it is
    #: ``result["jsoccutout"].client.last_report``.
    last_report: JobReport | None = None

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
            jc.ExportProtocol: [("fits", "FITS with full headers")]
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
            del found  # the unsplit rows (and the keywords kept for the names) are not needed any more
        refuse_collisions(requests)  # no two planned files of the job with one name
        notify = next((b.notify for b in blocks if b.notify), None)
        method = next((b.method for b in blocks if b.method), "url")
        return build_table(requests, self, notify, method)

    def fetch(
        self,
        query_results,
        *,
        path=None,
        downloader=None,
        progress: bool = True,
        overwrite: bool = False,
        keep_tar: bool = False,
        cancel_foreign: bool = False,
        ledger: str | os.PathLike | None = None,
        **kwargs,
    ) -> parfive.Results | None:
        """
        Stage the export requests of ``query_results`` one at a time and download their files.

        Called by ``Fido.fetch``, which passes its own keywords on. Each request is submitted once
        the previous one is complete (JSOC allows one pending export per address) and downloads
        while the next one stages. Every request and file goes to the ledger
        (`~sunpy_jsoc_cutout.config.ledger_path`), so calling it again with the same results, after
        a crash or a kill, adopts the requests already made and skips the files already complete.
        A failed, refused or expired export does not stop the others: it is logged, kept in
        `last_report` and added to the returned results' ``errors``, so that
        ``Fido.fetch(files)`` retries what failed.

        Within ``Fido.fetch`` (which passes its downloader and ``wait=False``) every block is
        checked at once and staged when Fido starts its downloader, so that blocks whose files
        would take one path are refused before anything is sent
        (`~sunpy_jsoc_cutout.exceptions.PathCollisionError`). A file is never moved over a file
        of another record or processing that an earlier fetch delivered: that file gets an error
        entry with `~sunpy_jsoc_cutout.exceptions.FileOverwriteError` instead.

        Parameters
        ----------
        query_results : `~sunpy_jsoc_cutout.response.JSOCCutoutResponse`
            Search results; a slice of them fetches only the requests its rows belong to.
        path : str or path-like, optional
            Path template of the files: ``{file}`` (JSOC's file name) and any column of the
            results, e.g. ``"~/data/{wavelength}/{T_REC:%Y%m%d}/{file}"``; ``/{file}`` is appended
            when missing. Default: sunpy's download directory.
        downloader : `parfive.Downloader`, optional
            Not used for downloading (Fido passes one with five connections; the client makes
            ``conf.max_conn`` connections, one by default, as JSOC asks); only its ``progress``
            setting is followed, so ``Fido.fetch(..., progress=False)`` works.
        progress : bool, optional
            Show progress bars for the staging and the downloads.
        overwrite : bool, optional
            Download files that exist already at their path again (parfive's rule).
        keep_tar : bool, optional
            Keep the tar files of ``url-tar`` exports after extracting them.
        cancel_foreign : bool, optional
            Cancel a pending export of the same address made by another program, instead of
            waiting for it to finish.
        ledger : str or path-like, optional
            The request ledger file. Default: `~sunpy_jsoc_cutout.config.ledger_path`.
        **kwargs
            Other keywords Fido passes (e.g. ``max_conn``, ``wait``) are accepted and not used:
            the connections come from ``conf.max_conn`` and the fetch always waits.

        Returns
        -------
        `parfive.Results` or None
            The paths of the files, with an error entry (an http URL and the exception) for
            every export or download that failed; `None` within ``Fido.fetch``, whose
            downloader returns them.

        Raises
        ------
        sunpy_jsoc_cutout.exceptions.MissingNotifyError
            If the query had no ``a.jsoc.Notify`` address.
        sunpy_jsoc_cutout.exceptions.PathTemplateError
            If ``path`` names a key the results do not have.
        sunpy_jsoc_cutout.exceptions.PathCollisionError
            If files of two blocks of one ``Fido.fetch`` would take one path.
        sunpy_jsoc_cutout.exceptions.DiskSpaceError
            If the download folder lacks the space the export is estimated to need.
        sunpy_jsoc_cutout.exceptions.ConfigurationError
            If a setting of ``sunpy_jsoc_cutout.config.conf`` is out of its range.
        sunpy_jsoc_cutout.exceptions.LedgerError
            If the ledger file cannot be opened or created.
        """
        from ._fetch import fetch  # noqa: PLC0415

        return fetch(
            self,
            query_results,
            path=path,
            downloader=downloader,
            progress=progress,
            overwrite=overwrite,
            keep_tar=keep_tar,
            cancel_foreign=cancel_foreign,
            ledger=ledger,
            **kwargs,
        )
