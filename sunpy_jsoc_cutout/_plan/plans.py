"""
Assemble the export requests of one checked query block (pure).

The client calls, per series of a block: ``check_block`` (``_plan.checks``), fetches the
reference record's keywords (and, for `ActiveRegion`, resolves it with ``_plan.noaa``), then
`plan_block`. Each `ExportPlan` is one ``jsoc_fetch?op=exp_request``.
"""

from dataclasses import dataclass, replace

import numpy as np

import astropy.units as u
from astropy.time import Time

from sunpy import log
from sunpy.sun.models import differential_rotation
from sunpy.util.exceptions import warn_user

from sunpy_jsoc_cutout._query.box import ActiveRegion, Box
from sunpy_jsoc_cutout._query.options import Tracking
from sunpy_jsoc_cutout._query.query import CutoutQuery
from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from . import process as _process
from .coords import ImPatchLocation, limb_crossing_times, resolve_box, solar_radius_arcsec
from .jsoc_text import Verbatim, number
from .process import ImPatch, Process, Step
from .recordset import Cadence, RecordSet, plan_recordsets, resolve_cadence
from .series_rules import SeriesRules

__all__ = [
    "ExportPlan",
    "block_cadence",
    "carrington_drift_rate",
    "default_filename_format",
    "distinct_plans",
    "plan_block",
    "reference_time",
]

_CARRINGTON_RATE = 360 / 25.38 * u.deg / u.day


@dataclass(frozen=True)
class ExportPlan:
    """
    The parameters of one export request.

    ``recordset`` and ``processing`` stay structured (`~sunpy_jsoc_cutout._plan.recordset.RecordSet`,
    `~sunpy_jsoc_cutout._plan.process.Process`) until they are sent: `ds` and `process` render
    them. A plan rebuilt from the ledger holds the sent text (`~sunpy_jsoc_cutout._plan.jsoc_text.Verbatim`;
    a `str` given for either is wrapped so).
    """

    series: str
    recordset: RecordSet | Verbatim
    processing: Process | Verbatim
    sizeratio: str
    method: str
    protocol: str
    filenamefmt: str
    requestor: str | None
    wavelength: int | None

    def __post_init__(self) -> None:
        for name in ("recordset", "processing"):
            if isinstance(getattr(self, name), str):
                object.__setattr__(self, name, Verbatim(getattr(self, name)))

    @property
    def ds(self) -> str:
        """The record set as sent."""
        return self.recordset.render()

    @property
    def process(self) -> str:
        """The ``process`` as sent."""
        return self.processing.render()

    @property
    def steps(self) -> Process:
        """The structured process (a plan rebuilt from the ledger has none)."""
        if not isinstance(self.processing, Process):
            msg = f"The process of {self.ds} is sent as given: {self.process!r}."
            raise TypeError(msg)
        return self.processing

    @property
    def records(self) -> RecordSet:
        """The structured record set (a plan rebuilt from the ledger has none)."""
        if not isinstance(self.recordset, RecordSet):
            msg = f"The record set {self.ds} is sent as given."
            raise TypeError(msg)
        return self.recordset


def default_filename_format(rules: SeriesRules) -> str:
    """Series, time and wavelength (AIA) or camera (HMI) and segment, so names never collide."""
    middle = {"AIA": "{WAVELNTH}", "HMI": "{CAMERA}"}.get(rules.instrument, "{recnum:%lld}")
    if rules.name.lower() == "hmi.b_720s":
        middle = "{recnum:%lld}"
    return f"{rules.name.lower()}.{{T_REC:A}}.{middle}.{{segment}}"


def carrington_drift_rate(latitude: u.Quantity) -> u.Quantity:
    """Surface rotation (Howard model) minus the Carrington rate at ``latitude``, in deg/day."""
    surface = differential_rotation(1 * u.day, latitude, model="howard", frame_time="sidereal") / u.day
    return (surface - _CARRINGTON_RATE).to(u.deg / u.day)


def _times(block: CutoutQuery, tracking: Tracking, location: ImPatchLocation, t_ref: Time) -> tuple[Time, Time]:
    start, stop = block.start_time, block.end_time
    if tracking.limb_to_limb:
        if location.carrington is None:
            msg = "Limb-to-limb tracking needs a box centre on the disk given as a coordinate, not in pixels."
            raise CutoutQueryError(msg)
        east, west = limb_crossing_times(location.carrington[0] * u.deg, t_ref)
        start = east if tracking.start == "east_limb" else start
        stop = west if tracking.stop == "west_limb" else stop
    start = tracking.start if isinstance(tracking.start, Time) else start
    stop = tracking.stop if isinstance(tracking.stop, Time) else stop
    if start is None or stop is None:
        msg = "Both ends of the time range are needed: add a.Time(start, end) or give Tracking start and stop."
        raise CutoutQueryError(msg)
    return start, stop


def _drift(
    location: ImPatchLocation, tracking: Tracking, duration: u.Quantity, keywords: dict, rules: SeriesRules
) -> ImPatchLocation:
    """Note (or pad for) the drift of a Carrington-tracked box against differential rotation."""
    if not tracking.enabled or location.carrington is None:
        return location
    lat = location.carrington[1] * u.deg
    drift_deg = abs(carrington_drift_rate(lat) * duration).to_value(u.deg)
    arcsec = np.deg2rad(drift_deg) * solar_radius_arcsec(keywords) * np.cos(lat)
    # a box sized in degrees has become its arcsec equivalent (_boxgeometry.sent_location)
    drift = {"arcsec": arcsec, "pixels": arcsec / rules.cdelt}[location.boxunits]
    unit = {"arcsec": '"', "pixels": " px"}[location.boxunits]
    if tracking.pad_for_drift:
        log.info("Padding the box by %s%s on each side for differential-rotation drift", number(drift, 1), unit)
        return ImPatchLocation(
            **{**location.__dict__, "width": location.width + 2 * drift, "height": location.height + 2 * drift}
        )
    text = (
        f"Over {duration.to_value(u.day):.2f} days the box (tracked at the Carrington rate) and the surface at "
        f"latitude {lat.to_value(u.deg):.0f} deg drift apart by about {number(drift, 1)}{unit}."
    )
    if drift > 0.1 * min(location.width, location.height):
        warn_user(text + " Use Tracking(..., pad_for_drift=True) to widen the box.")
    else:
        log.info("%s", text)
    return location


def reference_time(block: CutoutQuery, box: Box | ActiveRegion, location_t_ref: Time | None = None) -> Time:
    """
    The reference time of a block: `ReferenceTime`, a NOAA/Carrington time, the centre's obstime,
    the start of ``a.Time`` or of the tracking, in that order.
    """
    tracking = block.tracking
    candidates = [
        block.reference_time,
        location_t_ref,
        getattr(getattr(box, "center", None), "obstime", None),
        block.start_time,
        tracking.start if isinstance(tracking.start, Time) else None,
    ]
    for value in candidates:
        if value is not None:
            return Time(value)
    msg = "Give a reference time: a.jsoc_cutout.ReferenceTime(...), a box centre with an obstime, or a.Time."
    raise CutoutQueryError(msg)


def _process_of(
    block: CutoutQuery,
    rules: SeriesRules,
    location: ImPatchLocation,
    t_ref: Time,
    start: Time,
    stop: Time,
    cadence: Cadence | None,
) -> Process:
    steps: list[Step | ImPatch] = []
    if block.level1p5 is not None and rules.is_aia:
        steps.append(Step.of(*_process.aia_scale_step(rules, block.level1p5.pointing_table)))
    resize = block.resize
    if resize is not None:
        args = _process.resize_args(
            resize.scale,
            regrid=resize.regrid,
            center_to=resize.center_to_code,
            stretchmarks=resize.stretchmarks,
            crop=resize.crop,
        )
        steps.append(Step.of("resize", args))
    steps.append(
        ImPatch(
            location,
            t_ref=t_ref,
            t_start=start,
            t_stop=stop,
            tracking=block.tracking.enabled,
            register=block.register,
            crop=block.crop,
            full_headers=block.full_headers,
            cadence=cadence.im_patch if cadence else None,
        )
    )
    projection = block.map_projection
    if projection is not None:
        args = _process.maproj_args(
            projection.name,
            projection.lon,
            projection.lat,
            projection.scale,
            projection.cols,
            projection.rows,
            grid=projection.grid,
        )
        steps.append(Step.of("Maproj", args))
    rebin = block.rebin
    if rebin is not None:
        steps.append(Step.of("rebin", _process.rebin_args(rebin.scale, rebin.method, rebin.fwhm, rebin.nvector)))
    return Process(tuple(steps), int(block.record_limit))


def plan_block(
    block: CutoutQuery,
    rules: SeriesRules,
    keywords: dict,
    *,
    box: Box | None = None,
    t_ref: Time | None = None,
) -> tuple[ImPatchLocation, list[ExportPlan]]:
    """
    The export requests for one series of a checked block, and the box as they send it.

    Parameters
    ----------
    block : `~sunpy_jsoc_cutout._query.query.CutoutQuery`
        A walked and checked block.
    rules : `~sunpy_jsoc_cutout._plan.series_rules.SeriesRules`
        The series' rules.
    keywords : dict
        The reference record's keywords (SDO's position, ``CRLN_OBS``, ``CALVER64``...).
    box : `~sunpy_jsoc_cutout.attrs.Box`, optional
        Replaces the block's box (an `ActiveRegion` resolved by ``_noaa``).
    t_ref : `~astropy.time.Time`, optional
        Reference time from the NOAA record.

    Returns
    -------
    location : `~sunpy_jsoc_cutout._plan.coords.ImPatchLocation`
        im_patch's location and box (padded for drift when asked).
    plans : list of `ExportPlan`
    """
    tracking = block.tracking
    the_box = box or block.boxes[0]
    near = reference_time(block, the_box, t_ref)
    location = resolve_box(the_box, keywords, tracking=tracking.enabled, near=near)
    t_ref = reference_time(block, the_box, t_ref or location.t_ref)
    start, stop = _times(block, tracking, location, t_ref)
    location = _drift(location, tracking, (stop - start).to(u.day), keywords, rules)
    cadence = block_cadence(block, rules)
    recordsets = plan_recordsets(
        rules,
        start=block.start_time if block.start_time is not None else start,
        end=block.end_time if block.end_time is not None else stop,
        cadence=cadence,
        wavelengths=block.waves if rules.is_aia else [],
        primekeys=block.primekey_values,
        keywords=block.keywords,
        segments=block.segments,
    )
    process = _process_of(block, rules, location, t_ref, start, stop, cadence)
    ratio = _process.size_ratio(
        location,
        rules,
        rebin_scale=block.rebin_scale,
        resize_scale=block.resize_scale,
        map_pixels=block.map_projection.pixels if block.map_projection is not None else None,
    )
    plans = [
        ExportPlan(
            rules.name,
            recordset.recordset,
            process,
            f"{ratio:.6g}",
            block.export_method,
            block.protocol.jsoc_string,
            block.filename_format or default_filename_format(rules),
            block.requestor,
            recordset.wavelength,
        )
        for recordset in recordsets
    ]
    return location, plans


def block_cadence(block: CutoutQuery, rules: SeriesRules) -> Cadence | None:
    """The cadence JSOC applies for the block's ``a.Sample`` on ``rules``' series (`None`: every record)."""
    return resolve_cadence(rules, block.sample) if block.sample is not None else None


def _hashed(plan: ExportPlan) -> tuple[str, str, str, str]:
    """What jsoc_fetch hashes besides the canonical record list (``GetExistReqID``)."""
    return (plan.filenamefmt, plan.process, plan.protocol, plan.method)


def distinct_plans(plans: list[ExportPlan]) -> list[ExportPlan]:
    """
    The plans of one job, made distinct in what JSOC's duplicate rule hashes, with the same files.

    Before accepting a request, ``jsoc_fetch`` looks for one of the last 24 hours with the same
    MD5 of the canonical record list (``series[:#recnum,...]{segments}``: record-set filters such
    as ``[? WAVELNTH=171 ?]`` are gone), ``filenamefmt``, ``process`` (as sent), ``protocol`` and
    ``method``, and answers with that request's ID (``lm-jps/drms:base/export/apps/jsoc_fetch.c``,
    ``GetExistReqID``, ``DUP_EXPORT_WINDOW``). On ``aia.lev1`` the ``@`` cadence keeps only exact
    1 s slot multiples at that stage, often none, so the requests of two wavelengths could hash
    alike. Where plans share the four strings:

    1. a plan of one wavelength writes it as a literal in ``filenamefmt`` instead of ``{WAVELNTH}``
       (``exputil.c`` copies literal text unchanged and prints the keyword with the same digits,
       so the file names do not change);
    2. any plan still alike gets its ``n=`` record limit written with leading zeros (``n=00``,
       ``n=-03``): jsoc_fetch and jsoc_export_as_fits read it with ``atoi``, so the limit is unchanged.

    Parameters
    ----------
    plans : list of ExportPlan
        Every request of the job, in submission order.

    Returns
    -------
    list of ExportPlan
        The same requests, no two alike in ``(filenamefmt, process, protocol, method)``.
    """
    counts: dict[tuple, int] = {}
    for plan in plans:
        counts[_hashed(plan)] = counts.get(_hashed(plan), 0) + 1
    out: list[ExportPlan] = []
    seen: set[tuple[str, str, str, str]] = set()
    for plan in plans:
        if counts[_hashed(plan)] > 1 and plan.wavelength is not None and "{WAVELNTH}" in plan.filenamefmt:
            plan = replace(plan, filenamefmt=plan.filenamefmt.replace("{WAVELNTH}", str(int(plan.wavelength))))
        while _hashed(plan) in seen:  # the zeros go after the sign: atoi("0-3") would be 0
            plan = replace(plan, processing=replace(plan.steps, pad=plan.steps.pad + 1))
        seen.add(_hashed(plan))
        out.append(plan)
    return out
