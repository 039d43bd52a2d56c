"""
Box centre and size in im_patch's units, from the reference record's keywords (pure).

The observer is always **SDO**, built from the reference record's keywords, never Earth (SDO is
about 0.3" off Earth's view at the limb): ``HGLN_OBS``, ``HGLT_OBS``, ``DSUN_OBS`` where the series
has them (AIA), else ``CRLN_OBS``, ``CRLT_OBS``, ``DSUN_OBS`` (real HMI series have no
``HGLN_OBS``/``HGLT_OBS``; sunpy's maps fall back the same way), with ``T_OBS`` as the time.

Conventions checked against ``im_patch.c``:

* ``arcsec``: helioprojective arcsec as seen from SDO at the reference time.
* ``stony``: longitude from SDO's central meridian (im_patch adds it to ``CRLN_OBS``), latitude.
* ``carrlong``: Carrington longitude in JSOC's convention. im_patch subtracts 0.0818941 deg from
  ``CRLN_OBS`` unless bit 28 of the calibration version is set (`im_patch_crln`), so the longitude
  sent is sunpy's Carrington longitude shifted by (corrected ``CRLN_OBS`` - sunpy's ``L0`` of SDO);
  the box then lands where sunpy says. ``car_rot`` is the rotation whose central-meridian crossing
  of that longitude is nearest the requested time.
* Tracking is rigid at the Carrington rate, so a time change of a surface point uses sunpy's
  ``propagate_with_solar_surface("rigid")``.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import (
    HeliographicCarrington,
    HeliographicStonyhurst,
    Helioprojective,
    SphericalScreen,
    propagate_with_solar_surface,
    sun,
)

from sunpy_jsoc_cutout._query.box import ActiveRegion, Box
from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .boxgeometry import sent_location
from .jsoc_text import parse_drms_time

__all__ = [
    "ImPatchLocation",
    "carrington_rotation_for",
    "far_side_samples",
    "im_patch_crln",
    "limb_crossing_times",
    "refuse_untracked_carrington",
    "resolve_box",
    "sdo_observer",
    "solar_radius_arcsec",
]

#: im_patch's CRLN_OBS correction (``im_patch.c`` ``get_new_CRLN_OBS``), applied unless CALVER bit 28.
CRLN_CORRECTION_DEG = 0.0818941
_CALVER_BIT28 = 1 << 28
_RSUN_REF_M = 6.96e8


def im_patch_crln(crln, calver):
    """
    ``CRLN_OBS`` as im_patch uses it (``get_new_CRLN_OBS`` in ``lm-jps/proj:util/apps/im_patch.c``).

    im_patch starts from a calibration version of ``1 << 31``; it takes the low 32 bits of
    ``CALVER64`` where the series has it and the value is not negative, else ``CALVER32``; it
    subtracts 0.0818941 deg only when bits 31 and 28 of that version are both clear. So an
    absent or ``MISSING`` version means no correction. Vectorised.

    Parameters
    ----------
    crln : float or numpy.ndarray
        ``CRLN_OBS`` in degrees as the record holds it.
    calver : int or numpy.ndarray
        The calibration version (`~sunpy_jsoc_cutout._plan.rows.calver_of`), ``-1`` where the record has none.
    """
    calver = np.asarray(calver, dtype=np.int64)
    low = np.where(calver < 0, 1 << 31, calver & 0xFFFFFFFF)
    keep = (low & ((1 << 31) | _CALVER_BIT28)) != 0
    out = np.where(keep, np.asarray(crln, dtype=float), np.asarray(crln, dtype=float) - CRLN_CORRECTION_DEG)
    return float(out) if out.ndim == 0 else out


def _finite(keywords: dict, *names: str) -> bool:
    """Whether every keyword in ``names`` is present and a finite number."""
    try:
        return all(np.isfinite(float(keywords.get(n, np.nan))) for n in names)
    except (TypeError, ValueError):
        return False


def refuse_untracked_carrington(box: object, tracking: bool) -> None:
    """
    Refuse a Carrington box centre without tracking (``locunits=carrlong`` with ``t=1``).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        Saying to enable tracking.
    """
    if getattr(box, "locunits", "") == "carrlong" and not tracking:
        msg = (
            "A Carrington box centre without tracking gives 'complete nonsense' (the JSOC user guide): "
            "enable tracking with a.jsoc_cutout.Tracking(True)."
        )
        raise CutoutQueryError(msg)


def sdo_observer(keywords: dict) -> SkyCoord:
    """
    SDO's position (Stonyhurst) from a record's keywords.

    ``HGLN_OBS``/``HGLT_OBS``/``DSUN_OBS`` where they are set; otherwise ``CRLN_OBS`` (as im_patch
    corrects it, `im_patch_crln`), ``CRLT_OBS`` and ``DSUN_OBS`` in the Carrington frame of the
    observer itself. ``T_OBS`` is the time.
    """
    if "T_OBS" not in keywords or not _finite(keywords, "DSUN_OBS"):
        msg = "The reference record lacks T_OBS or DSUN_OBS; SDO's position cannot be computed."
        raise CutoutQueryError(msg)
    obstime = parse_drms_time(keywords["T_OBS"])
    distance = float(keywords["DSUN_OBS"]) * u.m
    if _finite(keywords, "HGLN_OBS", "HGLT_OBS"):
        lon, lat = float(keywords["HGLN_OBS"]) * u.deg, float(keywords["HGLT_OBS"]) * u.deg
        return SkyCoord(lon, lat, distance, frame=HeliographicStonyhurst, obstime=obstime)
    if not _finite(keywords, "CRLN_OBS", "CRLT_OBS"):
        msg = (
            "The reference record has neither HGLN_OBS/HGLT_OBS nor CRLN_OBS/CRLT_OBS set; SDO's position "
            "cannot be computed. Choose another reference time."
        )
        raise CutoutQueryError(msg)
    crln = im_patch_crln(float(keywords["CRLN_OBS"]), int(keywords.get("CALVER", -1)))
    carrington = HeliographicCarrington(
        crln * u.deg, float(keywords["CRLT_OBS"]) * u.deg, distance, obstime=obstime, observer="self"
    )
    return SkyCoord(carrington.transform_to(HeliographicStonyhurst(obstime=obstime)))


def solar_radius_arcsec(keywords: dict) -> float:
    """The solar radius seen from SDO in arcsec, ``asin(RSUN_REF/DSUN_OBS)`` as im_patch uses it."""
    return float(np.rad2deg(np.arcsin(keywords.get("RSUN_REF", _RSUN_REF_M) / keywords["DSUN_OBS"])) * 3600)


def _sdo_frame(keywords: dict) -> Helioprojective:
    observer = sdo_observer(keywords)
    return Helioprojective(observer=observer, obstime=observer.obstime)


@dataclass(frozen=True)
class ImPatchLocation:
    """
    im_patch's location and box arguments.

    ``carrington`` is the centre's (Carrington longitude, latitude) in sunpy's convention at the
    reference time when it is known; the client uses it for limb times and drift.
    """

    locunits: str
    x: float
    y: float
    boxunits: str
    width: float
    height: float
    car_rot: int | None = None
    t_ref: Time | None = None
    carrington: tuple[float, float] | None = None


def carrington_rotation_for(lon: u.Quantity, near: Time) -> tuple[int, Time]:
    """
    The Carrington rotation whose central-meridian crossing of ``lon`` is nearest ``near``.

    Returns ``(car_rot, crossing time)``, in the ``CAR_ROT`` convention of JSOC's
    ``HeliographicTime(car_rot, lon)``: a fraction ``(360 - lon)/360`` into rotation ``car_rot``.
    """
    base = (360.0 - u.Quantity(lon, u.deg).to_value(u.deg)) / 360.0
    car_rot = int(np.round(float(sun.carrington_rotation_number(near)) - base))
    return car_rot, sun.carrington_rotation_time(car_rot + base)


def far_side_samples(lon: float, lat: float, start: Time, stop: Time, margin: float = 0.0):
    """
    Where a Carrington point (degrees) is seen from Earth over ``start``-``stop``, hour by hour.

    Returns
    -------
    times : `~astropy.time.Time`
        The sample times: one an hour (2 to 100 of them), both ends included.
    far : `numpy.ndarray` of bool
        Whether the point is behind the limb at each time, by more than ``margin`` degrees.
    dlon : `numpy.ndarray`
        Its longitude from the central meridian at each time, in degrees (-180 to 180).

    Notes
    -----
    Earth's L0 and B0 are used; SDO's view differs by less than 0.02 deg.
    """
    steps = int(np.clip((stop - start).to_value(u.h), 1, 99)) + 1
    times = start + np.linspace(0, 1, steps) * (stop - start)
    dlon = (lon - sun.L0(times).to_value(u.deg) + 180) % 360 - 180
    b0, phi = np.deg2rad(sun.B0(times).to_value(u.deg)), np.deg2rad(lat)
    height = np.sin(phi) * np.sin(b0) + np.cos(phi) * np.cos(b0) * np.cos(np.deg2rad(dlon))
    return times, height < -np.sin(np.deg2rad(margin)), dlon


def limb_crossing_times(lon: u.Quantity, near: Time) -> tuple[Time, Time]:
    """
    East- and west-limb crossing times of Carrington longitude ``lon`` for the transit nearest ``near``.

    As im_patch's implicit times: the longitude at 90 deg east and 90 deg west of central meridian,
    a quarter rotation before and after the central-meridian crossing.
    """
    car_rot, _ = carrington_rotation_for(lon, near)
    fraction = car_rot + (360.0 - u.Quantity(lon, u.deg).to_value(u.deg)) / 360.0
    return sun.carrington_rotation_time(fraction - 0.25), sun.carrington_rotation_time(fraction + 0.25)


def _visible_from(point: SkyCoord, observer: SkyCoord) -> bool:
    """Whether a surface point faces the observer (observer above its local horizon)."""
    point = SkyCoord(point).transform_to(HeliographicStonyhurst(obstime=observer.obstime)).make_3d()
    p = point.cartesian.xyz.to_value(u.m)
    o = observer.cartesian.xyz.to_value(u.m)
    return bool(np.all(np.isfinite(p)) and np.dot(p, o - p) > 0)


def _hpc_on_disk(coord: SkyCoord) -> bool:
    """Whether a helioprojective coordinate falls on the solar disk of its observer."""
    radius = coord.frame.rsun.to_value(u.m) / coord.observer.radius.to_value(u.m)
    rho = np.arccos(np.cos(coord.Tx.to_value(u.rad)) * np.cos(coord.Ty.to_value(u.rad)))
    return bool(rho < np.arcsin(radius))


def _to_sdo_hpc(coord: SkyCoord, keywords: dict, tracking: bool) -> SkyCoord:
    """Transform a helioprojective coordinate (any observer, any time) to SDO's view."""
    if coord.obstime is None or getattr(coord, "observer", None) is None:
        msg = "A Helioprojective box centre needs an obstime and an observer (e.g. observer='earth')."
        raise CutoutQueryError(msg)
    sdo_frame = _sdo_frame(keywords)
    on_surface = _hpc_on_disk(coord)
    if tracking and not on_surface:
        msg = (
            f"The box centre ({coord.Tx:.1f}, {coord.Ty:.1f}) is off the solar disk, and a tracked box must "
            "start on the disk: move the centre onto the disk or use Tracking(False)."
        )
        raise CutoutQueryError(msg)
    if not on_surface:
        with SphericalScreen(coord.observer, only_off_disk=True):
            return SkyCoord(coord).transform_to(sdo_frame)
    surface = SkyCoord(coord.make_3d())
    with propagate_with_solar_surface("rigid"):
        point = surface.transform_to(HeliographicStonyhurst(obstime=sdo_frame.obstime))
    if tracking and not _visible_from(point, sdo_frame.observer):
        msg = "The box centre is on the far side of the Sun as seen from SDO; choose a point on SDO's visible disk."
        raise CutoutQueryError(msg)
    return point.transform_to(sdo_frame)


def _carrington_of(point: SkyCoord, keywords: dict) -> tuple[float, float]:
    observer = sdo_observer(keywords)
    frame = HeliographicCarrington(observer=observer, obstime=observer.obstime)
    with propagate_with_solar_surface("rigid"):
        hgc = SkyCoord(point).transform_to(frame)
    return float(hgc.lon.to_value(u.deg)), float(hgc.lat.to_value(u.deg))


def jsoc_carrington_offset(keywords: dict) -> float:
    """JSOC's Carrington longitude minus sunpy's, in degrees, from the reference record."""
    crln = im_patch_crln(float(keywords["CRLN_OBS"]), int(keywords.get("CALVER", -1)))
    observer = sdo_observer(keywords)
    l0 = observer.transform_to(HeliographicCarrington(observer=observer, obstime=observer.obstime)).lon
    return float((crln - l0.to_value(u.deg) + 180) % 360 - 180)


def _size(box) -> tuple[str, float, float]:
    unit = {"pixels": u.pix, "arcsec": u.arcsec, "degrees": u.deg}[box.boxunits]
    return box.boxunits, float(box.width.to_value(unit)), float(box.height.to_value(unit))


def _check_on_disk_arcsec(x: float, y: float, keywords: dict) -> None:
    if np.hypot(x, y) >= solar_radius_arcsec(keywords):
        msg = (
            f'The box centre ({x:g}", {y:g}") is off the solar disk, and a tracked box must start on the disk: '
            "move the centre onto the disk or use Tracking(False)."
        )
        raise CutoutQueryError(msg)


def _wrap180(deg: float) -> float:
    return float((deg + 180.0) % 360.0 - 180.0)


def _resolve_position(box: Box, keywords: dict, tracking: bool, near: Time) -> ImPatchLocation:
    """A centre given directly in im_patch's units ([x, y] arcsec, pixels, stony or carrlong numbers)."""
    boxunits, width, height = _size(box)
    x, y = (float(v) for v in box.position.value)
    common: dict[str, Any] = {"boxunits": boxunits, "width": width, "height": height}
    if box.locunits == "pixels":
        return ImPatchLocation("pixels", x, y, **common)
    observer = sdo_observer(keywords)
    if box.locunits == "arcsec":
        if tracking:
            _check_on_disk_arcsec(x, y, keywords)
        point = SkyCoord(x * u.arcsec, y * u.arcsec, frame=_sdo_frame(keywords))
        on_disk = np.hypot(x, y) < solar_radius_arcsec(keywords)
        carr = _carrington_of(point.make_3d(), keywords) if on_disk else None
        return ImPatchLocation("arcsec", x, y, carrington=carr, **common)
    if box.locunits == "stony":
        point = SkyCoord(x * u.deg + observer.lon, y * u.deg, frame=HeliographicStonyhurst, obstime=observer.obstime)
        if tracking and not _visible_from(point, observer):
            msg = f"The Stonyhurst centre ({x:g} deg, {y:g} deg) is not on SDO's visible disk; a tracked box must start on it."
            raise CutoutQueryError(msg)
        return ImPatchLocation("stony", x, y, carrington=_carrington_of(point, keywords), **common)
    sunpy_lon = (x - jsoc_carrington_offset(keywords)) % 360
    car_rot = box.car_rot
    if car_rot is None:
        car_rot, _ = carrington_rotation_for(x * u.deg, near)
    t_cm = sun.carrington_rotation_time(car_rot + (360.0 - x) / 360.0)
    return ImPatchLocation("carrlong", x, y, car_rot=car_rot, t_ref=t_cm, carrington=(sunpy_lon, y), **common)


def _resolve_skycoord(box: Box, keywords: dict, tracking: bool, near: Time) -> ImPatchLocation:
    """A centre (or corners) given as a SkyCoord: converted to SDO's view."""
    boxunits, width, height = _size(box)
    center = box.center
    observer = sdo_observer(keywords)
    if box.locunits == "arcsec":
        if box.corners is not None:
            bl, tr = (_to_sdo_hpc(c, keywords, tracking=False) for c in box.corners)
            width = float((tr.Tx - bl.Tx).to_value(u.arcsec))
            height = float((tr.Ty - bl.Ty).to_value(u.arcsec))
            center = SkyCoord((bl.Tx + tr.Tx) / 2, (bl.Ty + tr.Ty) / 2, frame=bl.frame)
        hpc = _to_sdo_hpc(center, keywords, tracking)
        x, y = float(hpc.Tx.to_value(u.arcsec)), float(hpc.Ty.to_value(u.arcsec))
        carr = None
        if _hpc_on_disk(hpc):
            carr = _carrington_of(hpc.make_3d(), keywords)
        return ImPatchLocation("arcsec", x, y, boxunits, width, height, carrington=carr)
    if center.obstime is None and box.locunits == "stony":
        msg = "A HeliographicStonyhurst box centre needs an obstime (Stonyhurst longitudes change with time)."
        raise CutoutQueryError(msg)
    if box.locunits == "stony":
        with propagate_with_solar_surface("rigid"):
            hgs = center.transform_to(HeliographicStonyhurst(obstime=observer.obstime))
        if tracking and not _visible_from(hgs, observer):
            msg = "The box centre is not on SDO's visible disk at the reference time; a tracked box must start on it."
            raise CutoutQueryError(msg)
        x = _wrap180(hgs.lon.to_value(u.deg) - observer.lon.to_value(u.deg))
        return ImPatchLocation(
            "stony",
            x,
            float(hgs.lat.to_value(u.deg)),
            boxunits,
            width,
            height,
            carrington=_carrington_of(hgs, keywords),
        )
    lon, lat = float(center.lon.to_value(u.deg)), float(center.lat.to_value(u.deg))
    car_rot, t_cm = carrington_rotation_for(lon * u.deg, near)
    x = (lon + jsoc_carrington_offset(keywords)) % 360
    return ImPatchLocation(
        "carrlong", x, lat, boxunits, width, height, car_rot=car_rot, t_ref=t_cm, carrington=(lon, lat)
    )


def resolve_box(box: Box, keywords: dict, *, tracking: bool, near: Time) -> ImPatchLocation:
    """
    im_patch's ``locunits``, ``x``, ``y``, ``boxunits``, ``width``, ``height`` (and ``car_rot``) for a box.

    Parameters
    ----------
    box : `~sunpy_jsoc_cutout.attrs.Box`
        The box.
    keywords : dict
        The reference record's keywords (``DSUN_OBS``, ``T_OBS``, ``CRLN_OBS``, ``CRLT_OBS``,
        ``HGLN_OBS``/``HGLT_OBS`` where set, ``CALVER`` (-1 for none), optional ``RSUN_REF``).
    tracking : bool
        Whether the box is tracked (a tracked centre must be on SDO's visible disk).
    near : `~astropy.time.Time`
        The requested time, for choosing ``car_rot``.

    Returns
    -------
    ImPatchLocation
        A box sized in degrees comes back as the equivalent box in arcsec
        (`~sunpy_jsoc_cutout._plan.boxgeometry.sent_location`: im_patch's own degree boxes land off
        their centre).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        A Carrington centre without tracking, a tracked centre off the disk, a degree box centred
        off the disk, missing keywords.
    """
    if isinstance(box, ActiveRegion):
        msg = "An ActiveRegion is resolved from the NOAA series first (see _noaa.resolve_active_region)."
        raise CutoutQueryError(msg)
    refuse_untracked_carrington(box, tracking)
    resolve = _resolve_position if box.center is None else _resolve_skycoord
    return sent_location(resolve(box, keywords, tracking, near), keywords)
