"""The emulator's ``im_patch`` processing step (``lm-jps/proj:util/apps/im_patch.c``).

`im_patch` takes the export's items and returns one ``<series>_mod`` item per cut-out:

1. arguments (`.im_patch_args`), failing the export with im_patch's message;
2. the reference image for ``t_ref`` (`.frame_select.find_reference`) and the box centre as a
   Carrington point (`.patch_tracking.resolve_target`); the implicit limb-to-limb times;
3. the input records: the export's own (a time-filtered ``in``; in a chain such as
   ``aia_scale_aialev1|im_patch`` the pixels the earlier step made), the query im_patch builds from
   ``t_start``/``t_stop``/``cadence`` (bare series or ``[$]``), or the nearest-good-frame-per-slot
   selection of ``aia.lev1``/``hmi.lev1`` queries with ``@`` (`.frame_select`);
4. per record (``T_REC`` within ``t_start``..``t_stop``, ``QUALITY >= 0``): the box from the
   first image (`.patch_geometry.box_shape`), its centre tracked or fixed, the pixels
   (`.patch_extract.extract_patch`) and the output header (``im_patch.c`` L1165-1205, L1551-1555).

Output data are float32 (written uncompressed by staging), files named from the ``_mod``
segment (``image.fits``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np

from sunpy import log

from sunpy_jsoc_cutout.testing.catalogue.filenames import RecordNames
from sunpy_jsoc_cutout.testing.common.timeutil import format_time, parse_drms_time
from sunpy_jsoc_cutout.testing.sun.fitsfiles import reduce_header
from sunpy_jsoc_cutout.testing.sun.sungeometry import HeaderGeometryError, jsoc_crln_obs
from .datatypes import ExportItem, ProcessError, StepContext
from .frame_select import (
    FrameSelectError,
    find_reference,
    lev1_selection_applies,
    round_cadence,
    select_lev1_slots,
    split_input,
    strip_at_cadence,
)
from .im_patch_args import ImPatchArgs, ImPatchArgumentError, parse_im_patch_args
from .patch_extract import Cutout, extract_patch
from .patch_geometry import BoxShape, box_shape, rsun_pixels
from .patch_tracking import PatchTarget, TargetError, limb_times, resolve_target, tracked_centre
from .step_items import data_statistics, updated_calver

__all__ = ["im_patch"]

_REF_WINDOW = 7680.0  # the last t_ref search window of im_patch.c (+-15 s doubling below 10000 s)


class _Run:
    """State of one im_patch run (what the C keeps in DoIt's locals)."""

    def __init__(self, args: ImPatchArgs, context: StepContext):
        self.args = args
        self.context = context
        self.box: BoxShape | None = None
        self.target: PatchTarget | None = None
        self.fixed_centre: tuple[float, float] | None = None
        self.rsun_ref: float | None = None
        self.t_start, self.t_stop = args.t_start, args.t_stop

    @property
    def resolved_target(self) -> PatchTarget:
        """The box centre, once `_resolve` has found it."""
        assert self.target is not None, "_resolve runs first"
        return self.target

    def stored(self, header: Mapping) -> dict:
        """The header of the image as the emulator stores it (``image_size`` pixels)."""
        size = self.context.image_size
        return reduce_header(header, size) if size and int(header.get("NAXIS1", 0) or 0) != size else dict(header)


def _input_text(items: list[ExportItem], context: StepContext) -> str:
    if context.dataset:
        return context.dataset
    records = items[0].records
    return records.series.name + "[:#" + ",".join(str(int(r)) for r in records.recnum) + "]"


def _reference_item(items: list[ExportItem], t_ref: float, text: str) -> dict:
    """The chained case: the input record (an earlier step's output) closest to ``t_ref``."""
    best, diff = None, _REF_WINDOW
    for item in items:
        if int(item.header.get("QUALITY", 0) or 0) < 0:
            continue
        delta = abs(parse_drms_time(str(item.header["T_OBS"])) - t_ref)
        if delta <= diff:
            best, diff = item, delta
    if best is None:
        raise FrameSelectError(f"No input data found within 2-hours of t_ref {text}")
    return _item_header(best)


def _item_header(item: ExportItem) -> dict:
    header = dict(item.header)
    header["NAXIS2"], header["NAXIS1"] = np.shape(item.data)
    return header


def _resolve(run: _Run, spec, items: list[ExportItem], chained: bool) -> None:
    args, cat = run.args, run.context.catalogue
    ref = None
    if args.loctype != "carrlong":
        assert args.t_ref is not None, "parse_im_patch_args requires t_ref unless locunits=carrlong"
        if chained:
            ref = _reference_item(items, args.t_ref, spec.text)
        else:
            ref_records, i = find_reference(cat, spec.series, args.t_ref, spec.more, args.where)
            ref = run.stored(ref_records.header(i))
        run.rsun_ref = float(ref.get("RSUN_REF") or 6.96e8)
    run.target = resolve_target(args.loctype, args.x, args.y, ref, args.car_rot)
    if not run.target.on_disk:
        log.debug("im_patch: Starting location is off the solar disk.")
    run.fixed_centre = run.target.center
    if spec.times_source == "implicit":
        if not args.track and (run.t_start is None or run.t_stop is None):
            which = "t_start" if run.t_start is None else "t_stop"
            raise ImPatchArgumentError(f"Must have {which} or explicit times for NoTrack")
        east, west = limb_times(run.target)
        run.t_start = east if run.t_start is None else run.t_start
        run.t_stop = west if run.t_stop is None else run.t_stop


def _input_records(run: _Run, spec, items: list[ExportItem]):
    """The records im_patch opens, in its order."""
    cat, series = run.context.catalogue, run.context.catalogue.get_series(spec.series)
    step, epoch_text = series.t_rec_step, series.t_rec_epoch
    if not step:
        raise ImPatchArgumentError("problem getting t_step")
    cadence = round_cadence(run.args.cadence, step)
    if spec.times_source == "recset":
        query = spec.text
    else:
        at = ""
        if cadence > step:
            at = f"@{cadence:0.0f}s"
            if spec.times_source == "implicit":
                assert run.t_start is not None, "_resolve sets implicit times"
                assert run.t_stop is not None, "_resolve sets implicit times"
                epoch = parse_drms_time(epoch_text) if epoch_text else 0.0
                run.t_start = epoch + round((run.t_start - epoch) / cadence) * cadence
                run.t_stop = epoch + round((run.t_stop - epoch) / cadence) * cadence
        assert run.t_start is not None, "given or set by _resolve"
        assert run.t_stop is not None, "given or set by _resolve"
        lo, hi = format_time(run.t_start, "tai"), format_time(run.t_stop, "tai")
        query = f"{spec.series}[{lo}-{hi}{at}]{run.args.where}{spec.more}"
    if lev1_selection_applies(query, cadence):
        stripped, at_cadence = strip_at_cadence(query)
        records = cat.query(stripped)
        keep = select_lev1_slots(records.columns["T_REC"], records.columns["QUALITY"], at_cadence)
        log.debug("im_patch: %d of %d lev1 frames kept at %s s", keep.size, len(records), at_cadence)
        return records.take(keep)
    if spec.times_source == "recset" and items:
        return items[0].records
    return cat.query(query)


def _output_header(run: _Run, header: Mapping, cut: Cutout, source: str, query: str) -> dict:
    args, target = run.args, run.resolved_target
    out = dict(header)
    cdelt = float(header["CDELT1"])
    ny, nx = cut.data.shape
    out.update(
        NAXIS1=nx,
        NAXIS2=ny,
        SOURCE=source,
        CRPIX1=cut.crpix1,
        CRPIX2=cut.crpix2,
        CRVAL1=0.0,
        CRVAL2=0.0,
        CRDELT1=cdelt,  # sic: im_patch writes CRDELTi; CDELTi stay as copied
        CRDELT2=cdelt,
        CROTA2=cut.crota,
        CONTENT="Tracked Extracted Patches, made by im_patch",
        RequestID=run.context.requestid,
        HGBOXUNITS=args.boxunits,
        HGLOCUNITS=args.locunits,
        HGWIDE=args.width,
        HGHIGH=args.height,
        HGCRLN=target.crln,
        HGCRLT=target.crlt,
        HGCARROT=target.car_rot,
        HGTSTART=format_time(run.t_start, "tai") if run.t_start is not None else "JD_0",
        HGTSTOP=format_time(run.t_stop, "tai") if run.t_stop is not None else "JD_0",
        DATE=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        HGQUERY=query,
        CRLN_OBS=jsoc_crln_obs(header),
        **updated_calver(header),
        COMMENT=[*_as_list(header.get("COMMENT")), "Patches"],
        HISTORY=[*_as_list(header.get("HISTORY")), source, *cut.history],
    )
    rot = math.radians(cut.crota)
    px, py = (nx + 1) // 2 - cut.crpix1, (ny + 1) // 2 - cut.crpix2
    out["XCEN"] = (px * math.cos(rot) - py * math.sin(rot)) * cdelt
    out["YCEN"] = (py * math.cos(rot) + px * math.sin(rot)) * cdelt
    out.update(data_statistics(cut.data))
    return out


def _as_list(value) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _segments(records, all_segments: bool) -> list:
    names = records.segments or [s.name for s in records.series.segments]
    sdefs = [s for s in (records.series.segment(n) for n in names) if s is not None and s.kind != "spikes"]
    return sdefs if all_segments else sdefs[:1]


def _centre(run: _Run, header: Mapping) -> tuple[float, float]:
    if run.args.track:
        return tracked_centre(header, run.resolved_target)
    if run.fixed_centre is None:  # carrlong without tracking: the point in the first image
        run.fixed_centre = tracked_centre(header, run.resolved_target)
    return run.fixed_centre


def _first_box(run: _Run, header: Mapping) -> BoxShape:
    args = run.args
    cdelt = float(header["CDELT1"])
    rsunpix = rsun_pixels(header, run.rsun_ref)
    crlt_obs, crota = float(header["CRLT_OBS"]), float(header.get("CROTA2", 0.0) or 0.0)
    return box_shape(
        args.boxtype,
        args.width,
        args.height,
        cdelt,
        crlt=run.resolved_target.crlt,
        crlt_obs=crlt_obs,
        rsunpix=rsunpix,
        crota=crota,
    )


def _patch_items(run: _Run, items: list[ExportItem], query: str) -> list[ExportItem]:
    """The chained case: cut the pixels an earlier step made (its output records are im_patch's input)."""
    out, seen = [], set()
    cat = run.context.catalogue
    for item in items:
        key = (id(item.records), item.index)
        if item.segment.kind == "spikes" or (key in seen and not run.args.all_segments):
            continue
        seen.add(key)
        t_rec = float(item.records.columns["T_REC"][item.index])
        if run.t_start is not None and t_rec < run.t_start:
            continue
        if run.t_stop is not None and t_rec > run.t_stop:
            break
        header = _item_header(item)
        run.box = run.box or _first_box(run, header)
        cut = extract_patch(
            header,
            item.segment,
            _centre(run, header),
            run.box,
            register=run.args.register,
            crop=run.args.crop,
            rsun_ref=run.rsun_ref,
            image=np.asarray(item.data, dtype=np.float32),
        )
        if cut is None:
            continue
        if not item.seriesname.endswith("_mod"):
            mod = cat.get_series(f"{item.seriesname}_mod")
            seg = mod.segment(item.segment.name) or mod.segments[0]
            names = RecordNames(item.records, item.index, seg, seriesname=mod.name)
            item = replace(
                item,
                record=mod.name + item.record[len(item.seriesname) :],
                seriesname=mod.name,
                segment=seg,
                names=names,
            )
        out.append(replace(item, header=_output_header(run, header, cut, item.record, query), data=cut.data))
    return out


def _patch_records(run: _Run, records, query: str) -> list[ExportItem]:
    mod = run.context.catalogue.get_series(f"{records.series.name}_mod")
    segments = _segments(records, run.args.all_segments)
    times, quality = np.asarray(records.columns["T_REC"], float), np.asarray(records.columns["QUALITY"])
    out = []
    for i in range(len(records)):
        if run.t_start is not None and times[i] < run.t_start:
            continue
        if run.t_stop is not None and times[i] > run.t_stop:
            break
        if quality[i] < 0:
            continue
        header = run.stored(records.header(i))
        if run.box is None:
            run.box = _first_box(run, header)
        centre = _centre(run, header)
        spec = records.record_spec(i)
        for seg in segments:
            cut = extract_patch(
                header, seg, centre, run.box, register=run.args.register, crop=run.args.crop, rsun_ref=run.rsun_ref
            )
            if cut is None:
                log.debug("im_patch: patch completely outside image for %s", spec)
                break
            mod_seg = mod.segment(seg.name) or mod.segments[0]
            record = mod.name + spec[len(records.series.name) :]
            hdr = _output_header(run, header, cut, spec, query)
            names = RecordNames(records, i, mod_seg, seriesname=mod.name)
            out.append(ExportItem(record, mod.name, records, i, mod_seg, hdr, names, data=cut.data))
    return out


def im_patch(items: list[ExportItem], args: Mapping[str, str], context: StepContext) -> list[ExportItem]:
    """
    The ``im_patch`` step: one ``<series>_mod`` cut-out item per usable input record.

    Parameters
    ----------
    items : list of ExportItem
        The export's items (their ``records`` are the export's record set).
    args : Mapping
        The step's arguments (``x``, ``y``, ``width``, ``height``, ``locunits``, ...).
    context : StepContext
        Request id, catalogue, stored image size and the record-set spec (``dataset``).

    Raises
    ------
    ProcessError
        With im_patch's message, for bad arguments or a missing reference image.
    """
    if not items and not context.dataset:
        return []
    try:
        parsed = parse_im_patch_args(args)
        run = _Run(parsed, context)
        text = _input_text(items, context)
        spec = split_input(text, parsed.t_start is not None, parsed.t_stop is not None)
        chained = any(item.data is not None for item in items)
        _resolve(run, spec, items, chained)
        if chained:
            out = _patch_items(run, items, text)
        else:
            out = _patch_records(run, _input_records(run, spec, items), text)
    except (ImPatchArgumentError, FrameSelectError, TargetError) as err:
        raise ProcessError(str(err)) from err
    except HeaderGeometryError as err:
        raise ProcessError(f"Required keyword missing: {err}") from err
    log.debug("im_patch: %d patches made", len(out))
    return out
