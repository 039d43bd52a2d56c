"""
Cross-attr checks of one query block, run in ``search`` before anything is sent (pure).

Single-attr checks run when each attr is built; checks that need the reference record (a tracked
Stonyhurst or helioprojective centre off the disk or on the far side) run in ``_coords.resolve_box``,
an active region of another epoch is refused once its NOAA records are known (``_noaa``), and
`check_files` refuses a searched block from which no record would give a file.
"""

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import HeliographicStonyhurst, Helioprojective, sun
from sunpy.sun.models import differential_rotation
from sunpy.util.exceptions import warn_user

from sunpy_jsoc_cutout._query.box import ActiveRegion
from sunpy_jsoc_cutout._query.options import Resize
from sunpy_jsoc_cutout._query.query import CutoutQuery
from sunpy_jsoc_cutout.exceptions import CutoutQueryError, MissingNotifyError
from .coords import far_side_samples, refuse_untracked_carrington
from .frames import SKIP_BOX_OFF, SKIP_NO_IMAGE, SKIP_QUALITY
from .map_checks import check_map_in_box, check_map_projection
from .plans import carrington_drift_rate, reference_time
from .recordset import lev1_cadence
from .series_rules import SeriesRules, rules_for

__all__ = ["AIA_WAVELENGTHS", "block_series", "block_time_range", "check_block", "check_files", "require_notify"]

#: The AIA channels (Å) of each AIA series JSOC serves (aia.lev1 holds them all).
_EUV, _UV, _VIS = (94, 131, 171, 193, 211, 304, 335), (1600, 1700), (4500,)
AIA_WAVELENGTHS = {
    "aia.lev1_euv_12s": _EUV,
    "aia.lev1_uv_24s": _UV,
    "aia.lev1_vis_1h": _VIS,
    "aia.lev1": _EUV + _UV + _VIS,
}


def _raise(msg: str):
    raise CutoutQueryError(msg)


def block_series(block: CutoutQuery) -> list[str]:
    """The series of a block: ``a.jsoc.Series`` or the list of ``CoalignedSeries``."""
    if block.series is not None and block.coaligned is not None:
        _raise("Give either a.jsoc.Series or a.jsoc_cutout.CoalignedSeries, not both.")
    if block.coaligned is not None:
        return list(block.coaligned)
    if block.series is None:
        _raise("Add a series, e.g. a.jsoc.Series('aia.lev1_euv_12s') (or a.jsoc_cutout.CoalignedSeries(...)).")
    return [str(block.series)]


def _check_box(block: CutoutQuery, series: list[str]) -> None:
    boxes = block.boxes
    if not boxes:
        _raise("Add a cutout box: a.jsoc_cutout.Box(center, width) or a.jsoc_cutout.ActiveRegion(number, width).")
    if len(boxes) > 1:
        _raise(f"A query takes one cutout box, got {len(boxes)}; combine boxes with | to get one export per box.")
    box = boxes[0]
    refuse_untracked_carrington(box, block.tracking.enabled)
    if len(series) > 1 and (box.boxunits == "pixels" or getattr(box, "locunits", "") == "pixels"):
        _raise(
            "CoalignedSeries needs the same angular box on every series: give the centre and size in arcsec "
            "or degrees, not pixels (AIA and HMI pixels differ in size)."
        )


def _check_centre_on_disk(block: CutoutQuery) -> None:
    """A tracked arcsec centre clearly off the disk is refused before anything is sent.

    The limit here is the solar radius seen from Earth plus 0.5 %, more than SDO's orbit changes
    it; centres closer to the limb are checked against SDO's own view once the reference record
    is known (``_coords``).
    """
    box = block.boxes[0]
    if not block.tracking.enabled or getattr(box, "locunits", "") != "arcsec":
        return
    if getattr(box, "position", None) is None:
        return
    when = block.reference_time or block.start_time
    if when is None:
        return
    x, y = (float(v) for v in box.position.to_value(u.arcsec))
    radius = sun.angular_radius(Time(when)).to_value(u.arcsec)
    if np.hypot(x, y) > 1.005 * radius:
        _raise(
            f'The box centre ({x:g}", {y:g}") is off the solar disk (radius about {radius:.0f}"), and a tracked '
            "box must start on the disk: move the centre onto the disk or use a.jsoc_cutout.Tracking(False)."
        )


def block_time_range(block: CutoutQuery) -> tuple[Time, Time] | None:
    """The block's time range (``a.Time``, or explicit `Tracking` times); `None` for limb-to-limb runs."""
    tracking = block.tracking
    if tracking.limb_to_limb:
        return None
    start = tracking.start if isinstance(tracking.start, Time) else block.start_time
    stop = tracking.stop if isinstance(tracking.stop, Time) else block.end_time
    return None if start is None or stop is None else (Time(start), Time(stop))


def _iso(t: Time) -> str:
    return Time(t).utc.isot[:16]


def _check_carrington_on_disk(block: CutoutQuery) -> None:
    """
    A Carrington centre must be on the visible disk during the whole time range.

    im_patch projects a Carrington centre into every record with ``sphere2img`` and ignores its
    far-side return value (``lm-jps/proj:util/apps/im_patch.c``, the per-record tracking call);
    it skips a record only when the box is wholly outside the image. For a record in which the
    centre is behind the limb it cuts out the near-side mirror point, a file of the wrong place.
    Checked with Earth's L0/B0 (SDO differs by less than 0.02 deg), with 0.1 deg of margin.
    """
    box, span = block.boxes[0], block_time_range(block)
    if getattr(box, "locunits", "") != "carrlong" or isinstance(box, ActiveRegion) or span is None:
        return
    lonlat = (box.center.lon, box.center.lat) if box.center is not None else box.position
    lon, lat = (float(u.Quantity(v).to_value(u.deg)) for v in lonlat)
    start, stop = span
    times, far, dlon = far_side_samples(lon, lat, start, stop, margin=0.1)
    if not far.any():
        return
    why = (
        "im_patch does not skip records in which a tracked centre is behind the limb: it cuts out the near-side "
        "mirror point instead (im_patch.c ignores sphere2img's far-side flag), so those files would show the "
        "wrong place."
    )
    where = f"The Carrington centre ({lon:g} deg, {lat:g} deg)"
    if not far[0]:
        k = int(np.argmax(far))
        _raise(
            f"{where} goes behind the west limb at about {_iso(times[k])}, before the end of the time range "
            f"({_iso(stop)}). {why} End the time range by {_iso(times[k - 1])}."
        )
    frac = (360.0 - lon) / 360.0 - 0.25  # the east-limb crossing, a quarter rotation before central meridian
    east = sun.carrington_rotation_time(np.ceil(float(sun.carrington_rotation_number(start)) - frac) + frac)
    _raise(
        f"{where} is on the far side of the Sun at the start of the time range ({_iso(start)}: {dlon[0]:.0f} deg "
        f"from the central meridian). {why} It comes round the east limb at about {_iso(east)}: start the time "
        f"range then, or choose a longitude on the visible disk (the central meridian is at about "
        f"{(lon - dlon[0]) % 360:.0f} deg)."
    )


def _centre_latitude(box, when: Time) -> float | None:
    """The box centre's heliographic latitude in degrees, where the query says it (for drift estimates)."""
    try:
        if box.center is not None and not isinstance(box.center.frame, Helioprojective):
            return float(box.center.lat.to_value(u.deg))
        if box.center is not None:
            point = box.center.make_3d()
        elif box.locunits in ("stony", "carrlong"):
            return float(box.position[1].to_value(u.deg))
        elif box.locunits == "arcsec":
            x, y = box.position
            point = SkyCoord(x, y, frame=Helioprojective(observer="earth", obstime=when)).make_3d()
        else:
            return None
        lat = float(point.transform_to(HeliographicStonyhurst(obstime=point.obstime)).lat.to_value(u.deg))
    except (AttributeError, ValueError, TypeError):
        return None
    return lat if np.isfinite(lat) else None


def _check_reference_time(block: CutoutQuery) -> None:
    """Warn when an explicit reference time (``ReferenceTime``, the centre's obstime) is over a day from the range."""
    box, span = block.boxes[0], block_time_range(block)
    t_ref = block.reference_time
    t_ref = t_ref if t_ref is not None else getattr(getattr(box, "center", None), "obstime", None)
    if t_ref is None or span is None:
        return
    t_ref = Time(t_ref)
    start, stop = span
    gap = max((start - t_ref).to_value(u.day), (t_ref - stop).to_value(u.day), 0.0)
    if gap <= 1.0:
        return
    lat = _centre_latitude(box, t_ref)
    at = f"at latitude {lat:.0f} deg" if lat is not None else "at the equator"
    days = gap * u.day
    if block.tracking.enabled:
        drift = abs(carrington_drift_rate((lat or 0.0) * u.deg) * days).to_value(u.deg)
        how = "the box is placed there and tracked at the Carrington rate, so by the time range the surface"
    else:
        drift = abs(differential_rotation(days, (lat or 0.0) * u.deg, frame_time="synodic").to_value(u.deg))
        how = "the untracked box stays where the centre was in SDO's view then, while the surface"
    side = "before" if t_ref < start else "after"
    text = f"about {drift:.1f} deg of longitude" if drift < 360 else f"{drift / 360:.1f} turns ({drift:.0f} deg)"
    if drift < 90:
        text += f' (about {np.deg2rad(drift) * 960 * np.cos(np.deg2rad(lat or 0.0)):.0f}" near disk centre)'
    warn_user(
        f"The reference time {_iso(t_ref)} is {gap:.1f} days {side} the time range ({_iso(start)} to "
        f"{_iso(stop)}): {how} {at} has drifted {text} away from it. Give a.jsoc_cutout.ReferenceTime (or a centre "
        f"obstime) within the time range, e.g. ReferenceTime('{_iso(start)}')."
    )


def _check_sample(block: CutoutQuery) -> None:
    if block.sample is not None and not (np.isfinite(float(block.sample)) and float(block.sample) > 0):
        _raise(
            f"a.Sample({float(block.sample):g} s) is not a cadence JSOC can use (JSOC would treat "
            "it as every slot); give a positive time between frames such as a.Sample(60*u.s), or drop a.Sample "
            "to get every frame."
        )


def _check_cadence(block: CutoutQuery, rules: SeriesRules) -> None:
    if rules.lev1 and block.sample is not None:
        lev1_cadence(rules, block.sample)


def _check_times(block: CutoutQuery) -> None:
    tracking = block.tracking
    has_range = block.start_time is not None
    limb = tracking.limb_to_limb
    explicit = tracking.start is not None and tracking.stop is not None
    if not (has_range or limb or explicit):
        _raise(
            "Add a time range with a.Time(start, end), or track limb to limb with "
            "a.jsoc_cutout.Tracking(start='east_limb', stop='west_limb')."
        )
    if limb and has_range:
        _raise("Limb-to-limb tracking sets the time range itself; drop a.Time or give explicit Tracking times.")


def _check_wavelengths(block: CutoutQuery, rules: SeriesRules) -> list[int]:
    if block.wavelength is not None and block.wavelengths is not None:
        _raise("Give either a.Wavelength or a.jsoc_cutout.Wavelengths, not both.")
    waves = block.waves
    if waves and not rules.is_aia:
        _raise(f"{rules.name} has no wavelength selection; drop a.Wavelength/Wavelengths for it.")
    _check_channels(rules.name, waves)
    if "WAVELNTH" in block.primekey_values and waves:
        _raise("Give the wavelength once: as a.Wavelength or as a.jsoc.PrimeKey('WAVELNTH', ...), not both.")
    if "T_REC" in block.primekey_values and block.start_time is not None:
        _raise("Give the time once: as a.Time or as a.jsoc.PrimeKey('T_REC', ...), not both.")
    if rules.lev1 and rules.is_aia and block.sample is not None and not waves:
        _raise(
            "aia.lev1 with a.Sample needs a wavelength: im_patch keeps one frame per slot whatever the "
            "wavelength, so add a.Wavelength(...) or a.jsoc_cutout.Wavelengths(...)."
        )
    return waves


def _check_channels(series: str, waves: list[int]) -> None:
    """Refuse a wavelength the AIA series does not have, naming those it has and where the others are."""
    have = AIA_WAVELENGTHS.get(series.lower())
    missing = [w for w in waves if have is not None and w not in have]
    if have is None or not missing:
        return
    homes = [
        f"{w} Å is in {name}" for w in missing for name, ws in AIA_WAVELENGTHS.items() if name != "aia.lev1" and w in ws
    ]
    _raise(
        f"{series} has no {', '.join(f'{w} Å' for w in missing)} images: its wavelengths are "
        f"{', '.join(str(w) for w in have)} Å." + (f" {'; '.join(homes)}." if homes else " Pick one of them.")
    )


def _check_processing(block: CutoutQuery, rules: SeriesRules) -> None:
    if rules.processing_refused:
        _raise(
            f"JSOC runs no processing (im_patch, rebin, aia_scale) on {rules.name}; export it without cutout "
            "attrs through sunpy's a.jsoc client, or cut out from hmi.M_720s/hmi.Ic_720s instead."
        )
    if block.level1p5 is not None and not rules.is_aia:
        _raise(f"Level1p5 (aia_scale) only applies to AIA series, not {rules.name}; drop it.")
    if block.resize is not None:
        _check_resize(block.resize, block, rules)
    if block.map_projection is not None:
        check_map_projection(block, block_time_range(block))
        when = _reference_time_or_none(block)
        if when is not None:
            check_map_in_box(block, block.resize_scale or rules.cdelt, when)
    if block.register and rules.is_aia:
        warn_user(
            "Register(True) interpolates the AIA images, so SolarSoft's aia_respike can no longer re-spike "
            "them; leave registration off if you need re-spiked data (e.g. for flares)."
        )


def _reference_time_or_none(block: CutoutQuery) -> Time | None:
    """The block's reference time (`~sunpy_jsoc_cutout._plan.plans.reference_time`), None if not known yet."""
    if not block.boxes:
        return None
    try:
        return reference_time(block, block.boxes[0])
    except CutoutQueryError:
        return None


def _check_resize(resize: Resize, block: CutoutQuery, rules: SeriesRules) -> None:
    """What ``jsoc_resize`` (``lm-jps/proj:util/apps/jsoc_resize.c``) cannot do ahead of im_patch.

    It writes ``CRPIX1/2 = (n+1)/2`` whatever ``center_to`` is, while for ``center_to`` 1 and 2
    it leaves Sun centre where it was (and then does not rescale): im_patch, which runs next and
    finds the box from those keywords, would cut the wrong place. It moves Sun centre to the
    image centre and rotates, so a box centre in CCD pixels no longer points where it did. Its
    ``c`` (crop) flag acts on non-AIA images only.
    """
    box = block.boxes[0] if block.boxes else None
    if resize.center_to != "sun":
        _raise(
            f"Resize(center_to={resize.center_to!r}) cannot be cut out: jsoc_resize then writes CRPIX at the "
            "image centre although Sun centre stays where it was, so im_patch would cut the wrong place; "
            "use Resize(center_to='sun') (the default)."
        )
    if box is not None and getattr(box, "locunits", "") == "pixels":
        _raise(
            "Resize runs before im_patch and moves Sun centre to the image centre (rotating and rescaling), "
            "so a box centre in CCD pixels no longer points at the same place: give the centre in arcsec, "
            "as a SkyCoord or as an active region."
        )
    if resize.crop and rules.is_aia:
        _raise(
            f"Resize(crop=True) does nothing on AIA images (jsoc_resize crops non-AIA images only), so {rules.name} "
            "would come back uncropped: use a.jsoc_cutout.Crop(True) (im_patch's c=1) instead."
        )


def _check_export(block: CutoutQuery) -> None:
    name = block.protocol.name
    if block.full_headers and name != "fits":
        _raise(f"FullHeaders writes FITS headers, but the protocol is {name}; use protocol 'fits' or drop FullHeaders.")


def check_block(block: CutoutQuery, series_info: dict | None = None) -> list[SeriesRules]:
    """
    Check one walked query block; return the rules of each of its series.

    Parameters
    ----------
    block : `~sunpy_jsoc_cutout._query.query.CutoutQuery`
        A block from ``_query.walker.walker.create``.
    series_info : dict, optional
        ``{series: (prime_keys, step)}`` for series the client does not know.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        With a message saying what to change.
    """
    series_info = series_info or {}
    names = block_series(block)
    rules = [rules_for(s, *series_info.get(s, (None, None))) for s in names]
    _check_box(block, names)
    _check_times(block)
    _check_centre_on_disk(block)
    _check_sample(block)
    _check_carrington_on_disk(block)
    for rule in rules:
        _check_cadence(block, rule)
        if len(rules) == 1 or rule.is_aia:
            _check_wavelengths(block, rule)
        _check_processing(block, rule)
    _check_export(block)
    _check_reference_time(block)
    return rules


#: What to change when every record of a query is skipped, per skip reason (`~.frames.SKIP_REASONS`).
_ADVICE = {
    SKIP_BOX_OFF: "the box lies wholly outside the image: pixel centres are 1-based positions in the "
    "stored full-disk image (1 to 4096 for AIA and HMI, [2048, 2048]*u.pix is the middle), so move the centre "
    "onto the image, give it in arcsec, or choose a time range when a tracked centre is on the disk",
    SKIP_QUALITY: "every frame is bad (eclipse, calibration): choose another time range",
    SKIP_NO_IMAGE: "the records have no image: choose another time range or segment",
}


def check_files(block: CutoutQuery, found: list) -> None:
    """
    Refuse a searched block whose records exist but none of which would give a file.

    Parameters
    ----------
    block : `~sunpy_jsoc_cutout._query.query.CutoutQuery`
        The walked block.
    found : list of `~sunpy_jsoc_cutout._plan.rows.SearchedRequest`
        Its searched requests (``columns["Skip"]`` empty for a record that gives a file).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        When every listed record is skipped, so that no export is sent for nothing.
    """
    skips = [str(s) for request in found for s in request.columns.get("Skip", [])]
    if not skips or any(s == "" for s in skips):
        return
    reasons = {r: skips.count(r) for r in dict.fromkeys(skips)}
    counted = ", ".join(f"{n} {r}" for r, n in reasons.items())
    advice = "; ".join(_ADVICE.get(r, r) for r in reasons)
    series = ", ".join(dict.fromkeys(request.plan.series for request in found))
    _raise(
        f"None of the {len(skips)} records of {series} in this query would give a file (JSOC's im_patch skips "
        f"them all: {counted}), so nothing is exported: {advice}."
    )


def require_notify(notify: str | None) -> str:
    """The Notify address; raises `MissingNotifyError` when there is none (checked at fetch)."""
    if not notify or "@" not in str(notify):
        msg = (
            "JSOC exports need a registered e-mail address: add a.jsoc.Notify('you@example.org') to the query "
            "(register it once at http://jsoc.stanford.edu/ajax/register_email.html)."
        )
        raise MissingNotifyError(msg)
    return notify
