"""Where an ``im_patch`` box is, and how it moves (``lm-jps/proj:util/apps/im_patch.c``).

* `resolve_target` (#L585-691): the box centre as a Carrington (lon, lat) and rotation number,
  from ``x``/``y`` in ``arcsec`` (via ``PIX_X``/``PIX_Y`` of the reference image), ``pixels``
  (1-based, of the stored image), ``stony`` (``lon = CRLN_OBS + x``, ``lat = y``) or
  ``carrlong`` (``lon = x``, ``lat = y``, with ``car_rot``). ``CRLN_OBS`` is taken as
  ``get_new_CRLN_OBS`` takes it (`~.sungeometry.jsoc_crln_obs`: minus 0.0818941 degrees unless
  bit 28 of ``CALVER64``, or where the series has no CALVER64 of ``CALVER32``, is set; no
  correction when neither is present or the value is missing). Every geometry here is
  im_patch's, built on that longitude, not the emulator's truth: on ``aia.lev1_euv_12s``
  (which has no CALVER keyword) im_patch tracks with the uncorrected ``CRLN_OBS``, as on JSOC.
* `heliographic_time` (``HeliographicTime``, ``lm-jps/proj:libs/astro/heliographic_coords.c``):
  the time Carrington longitude ``L`` of rotation ``crot`` crosses the central meridian; the
  implicit ``t_start``/``t_stop`` are the crossings of ``crln + 90`` (east limb) and
  ``crln - 90`` (west limb) (#L692-704).
* `tracked_centre` (#L978-991): tracking is rigid rotation at the Carrington rate: the
  Carrington point is fixed and projected into every record with that record's own geometry.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

from erfa import ErfaWarning

from sunpy.coordinates import sun

from sunpy_jsoc_cutout.testing.common.timeutil import DAY
from sunpy_jsoc_cutout.testing.sun.sungeometry import ObserverGeometry, jsoc_crln_obs, observer_geometry
from .patch_geometry import pix_from_arcsec, pixel_to_carrington

__all__ = ["PatchTarget", "TargetError", "heliographic_time", "limb_times", "resolve_target", "tracked_centre"]

_JD_EPOCH = 2443144.5  # 1977.01.01_00:00:00_TAI, the DRMS epoch


class TargetError(ValueError):
    """The box location cannot be resolved; ``str(err)`` is im_patch's message."""


@dataclass(frozen=True)
class PatchTarget:
    """
    The box centre.

    Attributes
    ----------
    crln, crlt : float
        Carrington longitude (0-360) and latitude, degrees.
    car_rot : int
        Carrington rotation in which ``crln`` crosses the central meridian.
    center : tuple of float or None
        0-based pixel of the centre in the reference image (the fixed box of ``t=1``); None
        for ``carrlong`` (taken from the first processed image).
    on_disk : bool
        False when the starting location is off the disk (im_patch only warns).
    """

    crln: float
    crlt: float
    car_rot: int
    center: tuple[float, float] | None
    on_disk: bool = True


def heliographic_time(car_rot: int, lon: float) -> float:
    """Time (TAI seconds since 1977.01.01) Carrington longitude ``lon`` of rotation ``car_rot`` is at CM."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErfaWarning)
        t = sun.carrington_rotation_time(car_rot + (360.0 - lon) / 360.0).tai
    return ((t.jd1 - _JD_EPOCH) + t.jd2) * DAY


def limb_times(target: PatchTarget) -> tuple[float, float]:
    """The implicit ``(t_start, t_stop)``: the box at the east limb and at the west limb."""
    return heliographic_time(target.car_rot, target.crln + 90.0), heliographic_time(target.car_rot, target.crln - 90.0)


def _wrap(crln: float, car_rot: int) -> tuple[float, int]:
    if crln >= 360.0:
        return crln - 360.0, car_rot - 1
    if crln < 0.0:
        return crln + 360.0, car_rot + 1
    return crln, car_rot


def resolve_target(loctype: str, x: float, y: float, ref: Mapping | None, car_rot: int = -1) -> PatchTarget:
    """
    The box centre from the location arguments (im_patch.c #L585-691).

    Parameters
    ----------
    loctype : str
        ``"arcsec"``, ``"pixels"``, ``"stony"`` or ``"carrlong"``.
    x, y : float
        The location arguments.
    ref : Mapping or None
        Header of the reference image (as stored; needed unless ``carrlong``).
    car_rot : int
        The ``car_rot`` argument (``carrlong`` only).

    Raises
    ------
    TargetError
        For ``carrlong`` without a longitude or latitude.
    """
    if loctype == "carrlong":
        if x < 0:
            raise TargetError("Box longitude must be specified.")
        if y < -990:
            raise TargetError("box latitude must be specified.")
        return PatchTarget(float(x), float(y), int(car_rot), None)
    assert ref is not None, "im_patch reads a reference image unless locunits=carrlong"
    geom = _jsoc_geometry(ref)
    on_disk = True
    if loctype == "stony":
        crlt, crln = float(y), jsoc_crln_obs(ref) + float(x)
        cx, cy, _, _ = geom.carrington_to_pixel(crln, crlt)
    else:
        cx, cy = pix_from_arcsec(ref, x, y) if loctype == "arcsec" else (x - 1.0, y - 1.0)
        crln, crlt, on_disk = pixel_to_carrington(geom, cx, cy)
        # pixel_to_carrington returns 0-360; im_patch's img2sphere gives CRLN_OBS +- 90
        obs = jsoc_crln_obs(ref)
        crln = obs + ((crln - obs + 180.0) % 360.0 - 180.0)
    crln, rot = _wrap(crln, int(ref["CAR_ROT"]))
    return PatchTarget(crln, crlt, rot, (cx, cy), on_disk)


def tracked_centre(header: Mapping, target: PatchTarget) -> tuple[float, float]:
    """0-based pixel of the fixed Carrington point in the image described by ``header``."""
    x, y, _, _ = _jsoc_geometry(header).carrington_to_pixel(target.crln, target.crlt)
    return x, y


def _jsoc_geometry(header: Mapping) -> ObserverGeometry:
    """The image geometry im_patch computes: the observer at `jsoc_crln_obs`."""
    return observer_geometry(header, jsoc_crln_obs(header))
