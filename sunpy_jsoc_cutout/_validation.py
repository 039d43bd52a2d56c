"""
Cross-attr checks of one query block, run in ``search`` before anything is sent (pure).

Single-attr checks run when each attr is built; checks that need the reference record (a tracked
centre off the disk, a far-side centre) run in ``_coords.resolve_box``.
"""

import numpy as np

import astropy.units as u
from astropy.time import Time

from sunpy.coordinates import sun
from sunpy.util.exceptions import warn_user

from ._series_rules import SeriesRules, rules_for
from .exceptions import CutoutQueryError, MissingNotifyError

__all__ = ["block_series", "check_block", "require_notify"]


def _raise(msg: str):
    raise CutoutQueryError(msg)


def block_series(block: dict) -> list[str]:
    """The series of a block: ``a.jsoc.Series`` or the list of ``CoalignedSeries``."""
    if "series" in block and "coaligned" in block:
        _raise("Give either a.jsoc.Series or a.jsoc_cutout.CoalignedSeries, not both.")
    if "coaligned" in block:
        return list(block["coaligned"])
    if "series" not in block:
        _raise("Add a series, e.g. a.jsoc.Series('aia.lev1_euv_12s') (or a.jsoc_cutout.CoalignedSeries(...)).")
    return [block["series"]]


def _check_box(block: dict, series: list[str]) -> None:
    boxes = block.get("boxes", [])
    if not boxes:
        _raise("Add a cutout box: a.jsoc_cutout.Box(center, width) or a.jsoc_cutout.ActiveRegion(number, width).")
    if len(boxes) > 1:
        _raise(f"A query takes one cutout box, got {len(boxes)}; combine boxes with | to get one export per box.")
    box = boxes[0]
    tracking = block.get("tracking")
    enabled = tracking is None or tracking.enabled
    if getattr(box, "locunits", "") == "carrlong" and not enabled:
        _raise(
            "A Carrington box centre without tracking gives 'complete nonsense' (the JSOC user guide): "
            "enable tracking with a.jsoc_cutout.Tracking(True)."
        )
    if len(series) > 1 and (box.boxunits == "pixels" or getattr(box, "locunits", "") == "pixels"):
        _raise(
            "CoalignedSeries needs the same angular box on every series: give the centre and size in arcsec "
            "or degrees, not pixels (AIA and HMI pixels differ in size)."
        )


def _check_centre_on_disk(block: dict) -> None:
    """A tracked arcsec centre clearly off the disk is refused before anything is sent.

    The limit here is the solar radius seen from Earth plus 0.5 %, more than SDO's orbit changes
    it; centres closer to the limb are checked against SDO's own view once the reference record
    is known (``_coords``).
    """
    box = block["boxes"][0]
    tracking = block.get("tracking")
    if (tracking is not None and not tracking.enabled) or getattr(box, "locunits", "") != "arcsec":
        return
    if getattr(box, "position", None) is None:
        return
    when = block.get("reference_time") or block.get("start_time")
    if when is None:
        return
    x, y = (float(v) for v in box.position.to_value(u.arcsec))
    radius = sun.angular_radius(Time(when)).to_value(u.arcsec)
    if np.hypot(x, y) > 1.005 * radius:
        _raise(
            f'The box centre ({x:g}", {y:g}") is off the solar disk (radius about {radius:.0f}"), and a tracked '
            "box must start on the disk: move the centre onto the disk or use a.jsoc_cutout.Tracking(False)."
        )


def _check_cadence(block: dict, rules: SeriesRules) -> None:
    if rules.lev1 and "sample" in block and round(float(block["sample"])) <= 1:
        _raise(
            f"a.Sample({float(block['sample']):g} s) is too short for {rules.name}: im_patch only selects frames "
            "for a cadence longer than 1 s. Ask for 2 s or more, or drop a.Sample to get every frame."
        )


def _check_times(block: dict) -> None:
    tracking = block.get("tracking")
    has_range = "start_time" in block
    limb = tracking is not None and tracking.limb_to_limb
    explicit = tracking is not None and tracking.start is not None and tracking.stop is not None
    if not (has_range or limb or explicit):
        _raise(
            "Add a time range with a.Time(start, end), or track limb to limb with "
            "a.jsoc_cutout.Tracking(start='east_limb', stop='west_limb')."
        )
    if limb and has_range:
        _raise("Limb-to-limb tracking sets the time range itself; drop a.Time or give explicit Tracking times.")


def _check_wavelengths(block: dict, rules: SeriesRules) -> list[int]:
    if "wavelength" in block and "wavelengths" in block:
        _raise("Give either a.Wavelength or a.jsoc_cutout.Wavelengths, not both.")
    waves = block.get("wavelengths") or ([block["wavelength"]] if "wavelength" in block else [])
    if waves and not rules.is_aia:
        _raise(f"{rules.name} has no wavelength selection; drop a.Wavelength/Wavelengths for it.")
    if "WAVELNTH" in block.get("primekeys", {}) and waves:
        _raise("Give the wavelength once: as a.Wavelength or as a.jsoc.PrimeKey('WAVELNTH', ...), not both.")
    if "T_REC" in block.get("primekeys", {}) and "start_time" in block:
        _raise("Give the time once: as a.Time or as a.jsoc.PrimeKey('T_REC', ...), not both.")
    if rules.lev1 and rules.is_aia and "sample" in block and not waves:
        _raise(
            "aia.lev1 with a.Sample needs a wavelength: im_patch keeps one frame per slot whatever the "
            "wavelength, so add a.Wavelength(...) or a.jsoc_cutout.Wavelengths(...)."
        )
    return waves


def _check_processing(block: dict, rules: SeriesRules) -> None:
    if rules.processing_refused:
        _raise(
            f"JSOC runs no processing (im_patch, rebin, aia_scale) on {rules.name}; export it without cutout "
            "attrs through sunpy's a.jsoc client, or cut out from hmi.M_720s/hmi.Ic_720s instead."
        )
    if "level1p5" in block and not rules.is_aia:
        _raise(f"Level1p5 (aia_scale) only applies to AIA series, not {rules.name}; drop it.")
    if block.get("register") and rules.is_aia:
        warn_user(
            "Register(True) interpolates the AIA images, so SolarSoft's aia_respike can no longer re-spike "
            "them; leave registration off if you need re-spiked data (e.g. for flares)."
        )


def _check_export(block: dict) -> None:
    protocol = block.get("protocol")
    name = protocol.name if protocol is not None else "fits"
    if block.get("full_headers") and name != "fits":
        _raise(f"FullHeaders writes FITS headers, but the protocol is {name}; use protocol 'fits' or drop FullHeaders.")
    if name == "as-is":
        warn_user(
            "Protocol 'as-is' exports carry no record keywords in the files (JSOC puts them in "
            "<requestid>.keywords.txt); use 'fits' to get full headers."
        )


def check_block(block: dict, series_info: dict = None) -> list[SeriesRules]:
    """
    Check one walked query block; return the rules of each of its series.

    Parameters
    ----------
    block : dict
        A block from ``_walker.walker.create``.
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
    for rule in rules:
        _check_cadence(block, rule)
        if len(rules) == 1 or rule.is_aia:
            _check_wavelengths(block, rule)
        _check_processing(block, rule)
    _check_export(block)
    return rules


def require_notify(block: dict) -> str:
    """The block's Notify address; raises `MissingNotifyError` when there is none (checked at fetch)."""
    notify = block.get("notify")
    if not notify or "@" not in str(notify):
        msg = (
            "JSOC exports need a registered e-mail address: add a.jsoc.Notify('you@example.org') to the query "
            "(register it once at http://jsoc.stanford.edu/ajax/register_email.html)."
        )
        raise MissingNotifyError(msg)
    return notify
