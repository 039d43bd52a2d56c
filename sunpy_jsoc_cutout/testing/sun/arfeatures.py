"""Active-region features of the synthetic Sun.

Each NOAA region becomes one or two compact Gaussian *blobs*. A blob is centred on the
projection of its surface point (Carrington longitude and latitude) and is **isotropic in the
image plane**, with a width set by its heliographic size at the observer's distance. A Gaussian
drawn on the sphere would be foreshortened asymmetrically, shifting its intensity centroid by
more than a pixel at 60° from disk centre; an image-plane Gaussian keeps the centroid exactly at
the projected position, which is what a test comparing with `sunpy.coordinates` needs (and it
is what optically thin coronal emission above a region looks like).

Blobs are evaluated only inside a box of +/- 5 sigma around their centre.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, overload

import numpy as np

from .sungeometry import ObserverGeometry

__all__ = ["Blob", "RegionSpec", "blobs_for", "paint_blobs", "region_specs", "regions_at"]

_BOX_SIGMAS = 5.0
_AIA_CONTRAST = 6.0  # peak brightness of a typical region over the quiet disk centre


class RegionSpec(NamedTuple):
    """An active region as the renderer sees it.

    Attributes
    ----------
    number : int
        NOAA number (sets the sign conventions of the magnetogram bipole).
    lat : float
        Heliographic latitude (deg).
    carr_lon : float
        Carrington longitude at the image time (deg).
    sigma_deg : float
        Gaussian width of the region on the surface (deg).
    strength : float
        Relative brightness / field strength (1 is a typical region).
    """

    number: int
    lat: float
    carr_lon: float
    sigma_deg: float = 1.5
    strength: float = 1.0


class Blob(NamedTuple):
    """One Gaussian feature: surface point, width on the surface and signed amplitude."""

    carr_lon: float
    lat: float
    sigma_deg: float
    amplitude: float


@overload
def _field(obj: object, names: tuple[str, ...], default: float) -> float: ...
@overload
def _field(obj: object, names: tuple[str, ...], default: None = None) -> float | None: ...
def _field(obj: object, names: tuple[str, ...], default: float | None = None) -> float | None:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return float(value)
    return default


def region_specs(regions: Iterable[Any]) -> tuple[RegionSpec, ...]:
    """Convert region objects (``noaa.ActiveRegion`` or anything with ``lat`` and ``carr_lon``)
    to `RegionSpec`; size comes from ``sigma_deg``/``radius_deg``/``size_deg`` or from an area
    in millionths of a hemisphere (``area``), strength from ``strength``/``intensity``."""
    specs = []
    for reg in regions:
        if isinstance(reg, RegionSpec):
            specs.append(reg)
            continue
        sigma = _field(reg, ("sigma_deg", "radius_deg", "size_deg"))
        if sigma is None:
            area = _field(reg, ("area", "area_msh"))
            # radius of a disc of that area on the unit sphere, in degrees
            sigma = float(np.rad2deg(np.sqrt(2e-6 * area))) if area else 1.5
        sigma = float(np.clip(sigma, 0.5, 3.0))
        strength = _field(reg, ("strength", "intensity", "brightness"), 1.0)
        number = int(_field(reg, ("number", "noaa", "noaa_ar"), 0))
        specs.append(RegionSpec(number, float(reg.lat), float(reg.carr_lon) % 360.0, sigma, strength))
    return tuple(specs)


def regions_at(t_tai: float) -> tuple[RegionSpec, ...]:
    """Regions from the emulator's NOAA catalogue at ``t_tai`` (none if it is unavailable)."""
    try:
        from .noaa import active_regions  # noqa: PLC0415 (written in parallel; optional here)
    except ImportError:
        return ()
    return region_specs(active_regions(t_tai))


def blobs_for(kind: str, regions: Iterable[RegionSpec]) -> tuple[Blob, ...]:
    """The blobs each kind of image draws for the regions.

    ``aia``: one bright blob per region (peak 6 times the quiet disk centre for strength 1); ``continuum``: a dark spot of half the region's width;
    ``magnetogram``: a tilted bipole (leading polarity westward, i.e. at larger Carrington
    longitude, and closer to the equator; opposite signs in the two hemispheres).
    """
    blobs: list[Blob] = []
    for reg in regions:
        if kind == "aia":
            blobs.append(Blob(reg.carr_lon, reg.lat, reg.sigma_deg, _AIA_CONTRAST * reg.strength))
        elif kind == "continuum":
            blobs.append(Blob(reg.carr_lon, reg.lat, 0.5 * reg.sigma_deg, -0.7 * min(reg.strength, 1.3)))
        elif kind == "magnetogram":
            half = 1.2 * reg.sigma_deg
            tilt = np.deg2rad(0.5 * abs(reg.lat))  # Joy's law: leading part nearer the equator
            dlon, dlat = half * np.cos(tilt), half * np.sin(tilt) * np.sign(reg.lat)
            sign = 1.0 if reg.lat >= 0 else -1.0
            sigma = 0.6 * reg.sigma_deg
            amp = 1500.0 * reg.strength
            blobs.append(Blob(reg.carr_lon + dlon, reg.lat - dlat, sigma, sign * amp))
            blobs.append(Blob(reg.carr_lon - dlon, reg.lat + dlat, sigma, -sign * amp))
    return tuple(blobs)


def _blob_mu(geom: ObserverGeometry, blob: Blob) -> float:
    lon, lat = np.deg2rad(blob.carr_lon), np.deg2rad(blob.lat)
    p = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    q = geom.to_carrington.T @ p
    v = geom.centre + q
    return float(-(v @ q) / np.linalg.norm(v))


def paint_blobs(
    out: np.ndarray,
    geom: ObserverGeometry,
    blobs: Iterable[Blob],
    rows: slice,
    cols: slice,
    centre_factor: Callable[[float], float] | None = None,
) -> None:
    """Add ``amplitude * centre_factor(mu_centre) * gaussian`` of every visible blob to ``out``.

    ``out`` holds the pixels ``[rows, cols]`` (0-based indices of the full image). Values depend
    only on the global pixel position, so painting a block equals slicing a full painting.
    ``centre_factor`` (e.g. ``mu`` itself for a line-of-sight field, or the limb darkening for
    a sunspot) is evaluated once, at the blob's centre, so that the blob stays symmetric.
    """
    pix_scale = np.sqrt(abs(np.linalg.det(geom.cd)))
    for blob in blobs:
        x, y, dist, visible = geom.carrington_to_pixel(blob.carr_lon, blob.lat)
        if not visible:
            continue
        sigma_img = np.deg2rad(blob.sigma_deg) / dist  # radians seen from the observer
        half = _BOX_SIGMAS * sigma_img / pix_scale
        r0, r1 = max(int(np.floor(y - half)), rows.start), min(int(np.ceil(y + half)) + 1, rows.stop)
        c0, c1 = max(int(np.floor(x - half)), cols.start), min(int(np.ceil(x + half)) + 1, cols.stop)
        if r0 >= r1 or c0 >= c1:
            continue
        dx = np.arange(c0, c1, dtype=np.float64) - x
        dy = np.arange(r0, r1, dtype=np.float64)[:, None] - y
        dxi = geom.cd[0, 0] * dx + geom.cd[0, 1] * dy
        deta = geom.cd[1, 0] * dx + geom.cd[1, 1] * dy
        amp = blob.amplitude * (centre_factor(_blob_mu(geom, blob)) if centre_factor else 1.0)
        gauss = np.exp((dxi * dxi + deta * deta) * (-0.5 / sigma_img**2))
        out[r0 - rows.start : r1 - rows.start, c0 - cols.start : c1 - cols.start] += amp * gauss
