"""
The metadata side of a search: from one checked query block to export plans and table rows.

Order of work (nothing is sent before the block passed ``_plan.checks.check_block``):

1. an `ActiveRegion` is looked up in the NOAA series (`~._jsoc.info.noaa_records`, ``_plan.noaa``);
2. the reference record nearest the reference time gives SDO's position and the geometry
   (`~._jsoc.info.reference_keywords`, asked only for keywords the series has);
3. `~._plan.plans.plan_block` makes the export requests and gives the box as they send it;
4. each request's records are listed with only the keywords a row needs (`~._jsoc.info.list_records`,
   paged so that no ``jsoc_info`` call returns more than ``page_size`` records) and turned into
   rows (`~._plan.rows.derive_rows`); for ``aia.lev1``/``hmi.lev1`` with a cadence, every frame of
   the range is listed with ``T_REC`` and ``QUALITY`` only, im_patch's selection replayed
   (`~._plan.cadence.Lev1Replay`) so that the rows are the frames JSOC will export, and the rows'
   keywords listed for the chosen frames by record number (`~._jsoc.info.records_by_recnum`);
5. `split_for_jsoc` cuts the job into requests JSOC accepts, with costs and limits from ``conf``.
"""

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from sunpy import log

from ._jsoc.info import JSOCInfo, list_pages, list_records, noaa_records, records_by_recnum, reference_keywords
from ._plan import names as _names
from ._plan.cadence import Lev1Replay, replay_pieces
from ._plan.coords import ImPatchLocation
from ._plan.limit import limit_records
from ._plan.noaa import check_region_epoch, resolve_active_region
from ._plan.plans import ExportPlan, distinct_plans, plan_block, reference_time
from ._plan.rows import SearchedRequest, concat_rows, cover_rows, derive_rows, row_keys, stack_rows
from ._plan.series_rules import SeriesRules
from ._plan.split import JobCosts, split_job
from ._query.box import ActiveRegion
from ._query.query import CutoutQuery
from .config import conf_value

__all__ = ["record_limit", "search_block", "split_for_jsoc"]


def _searched(
    info: JSOCInfo,
    plan: ExportPlan,
    location: ImPatchLocation,
    rules: SeriesRules,
    block: CutoutQuery,
    segment: str | None,
    page_size: int,
) -> SearchedRequest:
    """One planned request with the rows of the records it will export."""
    request = SearchedRequest(plan, location, rules=rules)
    time = plan.records.time
    cadence = time.cadence if rules.lev1 and time is not None else None
    # only the keywords these rows need, and what the file names need
    keys = _names.listed_keys(info.series(rules.name), row_keys(location, block), block, rules)
    derive = partial(derive_rows, location=location, rules=rules, block=block, segment=segment)
    if cadence is None:
        # each page's rows derived while the next page is on its way (its listed strings then dropped)
        request.columns = stack_rows(
            [derive(page) for page in list_pages(info, plan.records, segment, page_size, keys)]
        )
    else:
        # aia.lev1/hmi.lev1: every frame of the range is listed with only what im_patch's choice needs,
        # the choice replayed, and the rows' keywords listed for the chosen frames alone
        frames = list_records(info, plan.records.without_cadence(), None, page_size, LEV1_CHOICE_KEYS)
        if frames:
            request.replay = Lev1Replay(frames, cadence.seconds, _ChosenRows(info, rules.name, segment, keys, derive))
            request.columns = request.replay(None, None)
    request.plan = cover_rows(plan, request.columns)
    log.debug("%s: %s records", plan.ds, len(request.columns.get("T_REC", [])))
    return request


#: What im_patch's choice of ``aia.lev1``/``hmi.lev1`` frames reads (`~._plan.cadence.Lev1Replay`).
LEV1_CHOICE_KEYS = ("*recnum*", "T_REC", "QUALITY")


class _ChosenRows:
    """
    The rows of chosen frames: their keywords listed by record number when first asked for
    (`~._jsoc.info.records_by_recnum`), turned into rows by ``derive`` and kept, since the replay
    of a split request's pieces asks again for mostly the same frames (rows are per record).
    """

    def __init__(
        self, info: JSOCInfo, series: str, segment: str | None, keys: tuple[str, ...], derive: Callable
    ) -> None:
        self.info, self.series, self.segment, self.keys, self.derive = info, series, segment, keys, derive
        self.where: dict[int, int] = {}  # record number -> its row in `rows`
        self.parts: list[dict[str, Any]] = []
        self.rows: dict[str, Any] = {}

    def __call__(self, picked: dict[str, np.ndarray]) -> dict[str, Any]:
        recnums = [int(r) for r in picked["*recnum*"]]
        missing = list(dict.fromkeys(r for r in recnums if r not in self.where))
        if missing:
            cols = records_by_recnum(self.info, self.series, missing, self.segment, self.keys)
            self.where.update(zip(missing, range(len(self.where), len(self.where) + len(missing)), strict=True))
            self.parts.append(self.derive(cols))
            self.rows = concat_rows(self.parts)
        if not self.rows:
            return self.derive({key: np.array([], dtype=object) for key in ("*recnum*", *self.keys)})
        index = np.array([self.where[r] for r in recnums], dtype=np.int64)
        return {key: values[index] for key, values in self.rows.items()}


def search_block(
    info: JSOCInfo,
    block: CutoutQuery,
    rules: list[SeriesRules],
    *,
    page_size: int = 20000,
    noaa_series: str | None = None,
) -> list[SearchedRequest]:
    """
    Plan the exports of one checked block and list the records each will export.

    Returns
    -------
    list of `~sunpy_jsoc_cutout._plan.rows.SearchedRequest`
    """
    out = []
    box, t_noaa, noaa_rows = block.boxes[0], None, []
    if isinstance(box, ActiveRegion):
        noaa_rows = noaa_records(info, box, noaa_series)
        check_region_epoch(box, noaa_rows, block)  # before any record of the series is asked for
        box, t_noaa = resolve_active_region(box, noaa_rows)
    for rule in rules:
        t_ref = reference_time(block, box, t_noaa)
        keywords = reference_keywords(info, rule, t_ref, block.waves[0] if rule.is_aia and block.waves else None)
        region = block.boxes[0]
        if t_noaa is not None and isinstance(region, ActiveRegion):
            box, _ = resolve_active_region(region, noaa_rows, keywords)
        location, plans = plan_block(block, rule, keywords, box=box, t_ref=t_noaa)
        segment = block.segment or info.series(rule.name).image_segment
        out += [_searched(info, plan, location, rule, block, segment, page_size) for plan in plans]
    return out


def record_limit(rules: SeriesRules) -> int:
    """Most records in one request of the series (``conf.record_limit_aia``/``record_limit_hmi``)."""
    return conf_value("record_limit_hmi" if rules.instrument == "HMI" else "record_limit_aia")


def split_for_jsoc(requests: list[SearchedRequest]) -> list[SearchedRequest]:
    """
    Split the job's requests for JSOC's limits and for pipelining (``_plan.split``; costs from ``conf``),
    replay the lev1 cadence selection on each piece (`~._plan.cadence.replay_pieces`), apply the
    record limit to the whole query (`~._plan.limit.limit_records`), predict the file names on the
    user's format (`~._plan.names.name_rows`), then make the requests distinct for JSOC's duplicate
    rule (`~._plan.plans.distinct_plans`, which may write the wavelength into ``filenamefmt`` as a literal).
    """
    costs = JobCosts(*(conf_value(name) for name in ("staging_per_record", "download_rate", "request_overhead")))
    pieces = split_job(
        requests,
        lambda r: record_limit(r.rules),
        costs,
        conf_value("request_byte_limit"),
        sparse=lambda r: r.rules.lev1,
    )
    pieces = _names.name_rows(limit_records(replay_pieces(pieces)))
    plans = distinct_plans([piece.plan for piece in pieces])
    return [replace(piece, plan=plan) for piece, plan in zip(pieces, plans, strict=True)]
