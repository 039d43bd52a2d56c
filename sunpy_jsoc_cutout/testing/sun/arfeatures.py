"""Active-region features of the synthetic Sun.

Each region is drawn in its own *local frame*: ``(s, t)`` in units of the region's size
``sigma_deg`` along and across its bipole axis (tilted by Joy's law, the leading polarity
westward and nearer the equator), mapped to the image by the local linearisation (Jacobian) of
the projection at the region's centre. So the region is foreshortened as the surface is and
moves with its Carrington position, while every feature is **point-symmetric** about the
projected centre (except the magnetogram, which is antisymmetric): the intensity centroid of a
region is exactly where `sunpy.coordinates` puts the region's position, which the emulator's
tests measure. Features, with the footpoints of the bipole at ``s = +-2.2`` (a NOAA area is the spots' area: the
plage and loops span several times its radius):

* ``aia``: a bright core in a diffuse halo, coronal loops (the circles through the two footpoints, on which the
  bipolar angle is constant, as a buried dipole's field lines look from above: a fan of
  strands converging on the footpoints) and bright plage (moss) speckle around the footpoints;
* ``continuum``: a sunspot at each footpoint (umbra, penumbra with radial filaments) and a
  chain of pores between them;
* ``magnetogram``: a compact polarity at the leading footpoint and a more dispersed one of the
  opposite sign at the following footpoint, both with fragmented plage field around them.

Widths are in units of the region's size, never in pixels; what a pixel cannot resolve is
widened to about a pixel with its integral kept (anti-aliasing). Strand angles, pore places
and speckle waves come from a generator seeded with the NOAA number (or, for an unnumbered
region, its rounded latitude and longitude): no global random state. Regions are evaluated
only inside the box their local frame spans.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple, overload

import numpy as np

from .sungeometry import ObserverGeometry

__all__ = ["RegionSpec", "paint_regions", "region_specs", "regions_at"]

_FOOT = 2.2  # footpoints of the bipole at s = +-_FOOT (region sizes)
_EXTENT = (6.0, 4.5)  # the local frame's half-size along and across the axis (region sizes)


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


class _Look(NamedTuple):
    """A region's own random details (from its seed)."""

    strand_angles: np.ndarray  # bipolar angles of the loop strands (radians)
    strand_weights: np.ndarray
    speckle_k: np.ndarray  # (n, 2) wave vectors of the plage speckle (per region size)
    speckle_sign: np.ndarray
    pores: np.ndarray  # (n, 2) pore positions on the leading side (the following side mirrors them)


def _seed(reg: RegionSpec) -> int:
    key = f"noaa {reg.number}" if reg.number else f"lat {reg.lat:.1f} lon {reg.carr_lon:.1f}"
    return zlib.crc32(key.encode())


@functools.lru_cache(maxsize=256)
def _look(seed: int) -> _Look:
    rng = np.random.default_rng(seed)
    n_strands = 11
    angles = np.pi * (0.22 + 0.72 * rng.uniform(size=n_strands))
    weights = rng.uniform(0.4, 1.0, size=n_strands)
    n_speckle = 8
    direction = rng.uniform(0.0, np.pi, size=n_speckle)
    k = 2.0 * np.pi / rng.uniform(0.4, 0.8, size=n_speckle)
    speckle_k = np.stack([k * np.cos(direction), k * np.sin(direction)], axis=1)
    speckle_sign = rng.choice([-1.0, 1.0], size=n_speckle)
    pores = np.stack([rng.uniform(0.1, 1.4, 5), rng.uniform(-0.4, 0.4, 5)], axis=1)
    return _Look(angles, weights, speckle_k, speckle_sign, pores)


def _step(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(x))


def _gauss(s: np.ndarray, t: np.ndarray, s0: float, t0: float, width: float, pix: float) -> np.ndarray:
    """A unit-integral-preserving Gaussian spot of ``width``, widened to at least half a pixel."""
    eff2 = width * width + 0.25 * pix * pix
    return (width * width / eff2) * np.exp(((s - s0) ** 2 + (t - t0) ** 2) * (-0.5 / eff2))


def _speckle(s: np.ndarray, t: np.ndarray, look: _Look, pix: float) -> np.ndarray:
    """Point-symmetric zero-mean speckle of unit variance (waves under ~2 pixels fade out)."""
    total = np.zeros(s.shape, dtype=s.dtype)
    for (kx, ky), sign in zip(look.speckle_k.tolist(), look.speckle_sign.tolist(), strict=True):
        wgt = float(np.clip((2.0 * np.pi / np.hypot(kx, ky) / pix - 2.0), 0.0, 1.0))
        if wgt:
            total += (sign * wgt) * np.cos(kx * s + ky * t)
    return total * np.sqrt(2.0 / len(look.speckle_sign))


def _aia(s: np.ndarray, t: np.ndarray, look: _Look, pix: float) -> np.ndarray:
    core = 1.5 * _gauss(s, t, 0.0, 0.0, 0.8, pix) + 0.5 * np.exp(-0.5 * ((s / 3.0) ** 2 + (t / 2.2) ** 2))
    # bipolar angle: the angle footpoint-point-footpoint, constant on each loop
    ax, bx = _FOOT - s, -_FOOT - s
    angle = np.arctan2(np.abs(2.0 * _FOOT * t), ax * bx + t * t)
    # its gradient is 2 F / (r1 r2): strands converge on the footpoints, where a pixel spans
    # many of them and they blend into a smooth fan
    r1r2 = np.hypot(ax, t) * np.hypot(bx, t)
    width = np.sqrt(0.045**2 + (0.5 * pix * 2.0 * _FOOT / np.maximum(r1r2, 1e-6)) ** 2)
    loops = np.zeros(s.shape, dtype=s.dtype)
    for a0, wgt in zip(look.strand_angles.tolist(), look.strand_weights.tolist(), strict=True):
        loops += wgt * np.exp((angle - a0) ** 2 * (-0.5 / width**2))
    loops *= 0.045 / width
    loops *= 1.6 * np.exp(-0.5 * ((s / 3.6) ** 2 + (t / 2.5) ** 2))
    moss = _gauss(s, t, _FOOT, 0.0, 0.8, pix) + _gauss(s, t, -_FOOT, 0.0, 0.8, pix)
    moss *= 0.9 * np.clip(1.0 + 0.7 * _speckle(s, t, look, pix), 0.0, None)
    return core + loops + moss


def _spot(q_s: np.ndarray, q_t: np.ndarray, pix: float) -> np.ndarray:
    """Darkness (0-1) of a sunspot centred at the origin: umbra 0.75, penumbra 0.3 with filaments."""
    r = np.hypot(q_s, q_t)
    edge = np.hypot(0.03, 0.6 * pix)
    filaments = 1.0 + 0.3 * np.cos(16.0 * np.arctan2(q_t, q_s)) * np.clip(r / 0.2 - 1.0, 0.0, 1.0)
    return 0.3 * filaments * _step((0.62 - r) / edge) + 0.45 * _step((0.27 - r) / edge)


def _continuum(s: np.ndarray, t: np.ndarray, look: _Look, pix: float) -> np.ndarray:
    dark = _spot(s - _FOOT, t, pix) + _spot(-s - _FOOT, -t, pix)
    for ps, pt in look.pores.tolist():
        dark += 0.35 * (_gauss(s, t, ps, pt, 0.08, pix) + _gauss(s, t, -ps, -pt, 0.08, pix))
    # the group as a whole is faintly darker: one connected feature, not separate spots
    dark += 0.06 * np.exp(-0.5 * ((s / 2.8) ** 2 + (t / 0.8) ** 2))
    return -np.minimum(dark, 0.8)


def _magnetogram(s: np.ndarray, t: np.ndarray, look: _Look, pix: float) -> np.ndarray:
    fragments = np.clip(_speckle(s, t, look, pix), 0.0, None)
    leading = _gauss(s, t, _FOOT, 0.0, 0.35, pix) + 0.3 * fragments * _gauss(s, t, _FOOT, 0.0, 0.9, pix)
    following = 0.6 * _gauss(s, t, -_FOOT, 0.0, 0.45, pix) + 0.35 * fragments * _gauss(s, t, -_FOOT, 0.0, 1.3, pix)
    return leading - following


_PATTERNS: dict[str, tuple[Callable[..., np.ndarray], float]] = {
    "aia": (_aia, 4.0),
    "continuum": (_continuum, 1.0),
    "magnetogram": (_magnetogram, 1500.0),
}


def _local_frame(geom: ObserverGeometry, reg: RegionSpec) -> tuple[float, float, np.ndarray] | None:
    """Projected centre (x, y) and the 2x2 matrix from ``(s, t)`` to pixel offsets, or None
    for a region on the far side or too close to the limb to draw."""
    x, y, _, visible = geom.carrington_to_pixel(reg.carr_lon, reg.lat)
    if not visible:
        return None
    step = 0.05
    coslat = max(np.cos(np.deg2rad(reg.lat)), 1e-3)
    west = [np.array(geom.carrington_to_pixel(reg.carr_lon + sgn * step / coslat, reg.lat)[:2]) for sgn in (1, -1)]
    north = [np.array(geom.carrington_to_pixel(reg.carr_lon, reg.lat + sgn * step)[:2]) for sgn in (1, -1)]
    jac = np.column_stack([west[0] - west[1], north[0] - north[1]]) / (2.0 * np.deg2rad(step))
    tilt = np.deg2rad(0.5 * abs(reg.lat))  # Joy's law: the leading part nearer the equator
    hemi = 1.0 if reg.lat >= 0 else -1.0
    axes = np.array([[np.cos(tilt), hemi * np.sin(tilt)], [-hemi * np.sin(tilt), np.cos(tilt)]])
    matrix = jac @ axes * np.deg2rad(reg.sigma_deg)
    if abs(np.linalg.det(matrix)) < 1e-2:
        return None
    return x, y, matrix


def _centre_mu(geom: ObserverGeometry, reg: RegionSpec) -> float:
    lon, lat = np.deg2rad(reg.carr_lon), np.deg2rad(reg.lat)
    p = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    q = geom.to_carrington.T @ p
    v = geom.centre + q
    return float(-(v @ q) / np.linalg.norm(v))


def paint_regions(
    out: np.ndarray,
    geom: ObserverGeometry,
    regions: Iterable[RegionSpec],
    kind: str,
    rows: slice,
    cols: slice,
    centre_factor: Callable[[float], float] | None = None,
) -> None:
    """Add the features of every visible region to ``out`` (in units of the quiet disk centre,
    gauss for ``magnetogram``).

    ``out`` holds the pixels ``[rows, cols]`` (0-based indices of the full image). Values depend
    only on the global pixel position, so painting a block equals slicing a full painting.
    ``centre_factor`` (e.g. ``mu`` itself for a line-of-sight field, or the limb darkening for
    a sunspot) is evaluated once, at the region's centre, so that the region stays symmetric.
    """
    pattern, unit = _PATTERNS[kind]
    for reg in regions:
        frame = _local_frame(geom, reg)
        if frame is None:
            continue
        x, y, matrix = frame
        half = np.abs(matrix) @ np.array(_EXTENT)
        r0, r1 = max(int(np.floor(y - half[1])), rows.start), min(int(np.ceil(y + half[1])) + 1, rows.stop)
        c0, c1 = max(int(np.floor(x - half[0])), cols.start), min(int(np.ceil(x + half[0])) + 1, cols.stop)
        if r0 >= r1 or c0 >= c1:
            continue
        inverse = np.linalg.inv(matrix)
        dx = np.arange(c0, c1, dtype=np.float64) - x
        dy = np.arange(r0, r1, dtype=np.float64)[:, None] - y
        s = (inverse[0, 0] * dx + inverse[0, 1] * dy).astype(np.float32)
        t = (inverse[1, 0] * dx + inverse[1, 1] * dy).astype(np.float32)
        # a smooth window that reaches zero at the edges of the local frame
        window = np.clip(1.0 - (s / _EXTENT[0]) ** 2, 0.0, None) ** 2
        window *= np.clip(1.0 - (t / _EXTENT[1]) ** 2, 0.0, None) ** 2
        inside = window > 0.0
        pix = float(1.0 / np.sqrt(abs(np.linalg.det(matrix))))  # one pixel in region sizes
        values = np.zeros(s.shape, dtype=np.float32)
        values[inside] = pattern(s[inside], t[inside], _look(_seed(reg)), pix) * window[inside]
        hemi = 1.0 if reg.lat >= 0 else -1.0
        # coronal brightness grows more slowly than the region's flux
        amp = unit * (
            np.sqrt(reg.strength) if kind == "aia" else reg.strength * (hemi if kind == "magnetogram" else 1.0)
        )
        amp *= centre_factor(_centre_mu(geom, reg)) if centre_factor else 1.0
        out[r0 - rows.start : r1 - rows.start, c0 - cols.start : c1 - cols.start] += amp * values
