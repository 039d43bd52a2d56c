"""Closed-form pixel <-> solar-surface geometry for the synthetic Sun.

The renderer needs, for every pixel, where its line of sight meets the solar sphere (if it
does), the cosine of the viewing angle there (``mu``) and the point's position fixed on the
rotating Sun (Carrington frame). Using `sunpy.coordinates` per pixel is far too slow (seconds
per 2048² image), so this module does it in vectorised numpy:

1. pixel -> intermediate world coordinates through the FITS linear transform (``PCi_j`` if
   present, else ``CROTA2`` as sunpy builds it) and ``CDELTi``;
2. the gnomonic (TAN) projection about ``CRVAL`` gives a ray ``w = (1, xi, eta)`` in a
   *tangent frame* whose first axis points at ``CRVAL``;
3. the ray meets a sphere of radius ``RSUN_REF`` at distance ``DSUN_OBS`` (lengths are in
   solar radii below);
4. one fixed 3x3 rotation (helioprojective -> heliocentric -> Carrington, using ``CRLT_OBS``
   and the observer's true Carrington longitude) maps the surface point to the Carrington
   frame.

All lengths are in units of ``RSUN_REF``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "CRLN_OBS_OFFSET",
    "HeaderGeometryError",
    "ObserverGeometry",
    "SurfaceSample",
    "jsoc_crln_obs",
    "observer_geometry",
    "true_carrington_longitude",
]

#: JSOC's CRLN_OBS exceeds the true Carrington longitude by this many degrees while bit 28 of
#: the calibration version is unset (``lm-jps/proj:util/apps/im_patch.c`` ``get_new_CRLN_OBS``).
CRLN_OBS_OFFSET = 0.0818941
_CALVER_CRLN_BIT = 1 << 28
_ARCSEC = np.pi / (180.0 * 3600.0)
_RSUN_REF_DEFAULT = 696_000_000.0


class HeaderGeometryError(ValueError):
    """The header lacks a keyword the renderer needs, or holds an unusable value."""


@dataclass(frozen=True)
class SurfaceSample:
    """Geometry of a block of pixels (all arrays have the block's shape).

    Attributes
    ----------
    on_disk : numpy.ndarray of bool
        The line of sight meets the solar sphere.
    mu : numpy.ndarray
        Cosine of the angle between the local vertical and the direction to the observer
        (0 off the disk).
    rho : numpy.ndarray
        Closest approach of the line of sight to Sun centre, in solar radii.
    xyz : tuple of numpy.ndarray
        Unit vector of the surface point in the Carrington frame (meaningless off the disk).
    xi, eta : numpy.ndarray
        Intermediate (tangent-plane) coordinates in radians.
    """

    on_disk: np.ndarray
    mu: np.ndarray
    rho: np.ndarray
    xyz: tuple[np.ndarray, np.ndarray, np.ndarray]
    xi: np.ndarray
    eta: np.ndarray


@dataclass(frozen=True)
class ObserverGeometry:
    """Everything about one header's WCS and observer that the renderer needs.

    Attributes
    ----------
    crpix : tuple of float
        FITS reference pixel (1-based).
    cd : numpy.ndarray
        2x2 matrix from ``(p1 - CRPIX1, p2 - CRPIX2)`` to tangent-plane radians.
    centre : numpy.ndarray
        Sun centre in the tangent frame (solar radii).
    distance : float
        Observer-Sun distance in solar radii.
    to_carrington : numpy.ndarray
        3x3 rotation from the tangent frame to the Carrington frame.
    l0, b0 : float
        The observer's true Carrington longitude and latitude (degrees).
    pixel_size : float
        Size of one pixel at Sun centre, in solar radii.
    """

    crpix: tuple[float, float]
    cd: np.ndarray
    centre: np.ndarray
    distance: float
    to_carrington: np.ndarray
    l0: float
    b0: float
    pixel_size: float

    def sample(self, rows: slice, cols: slice) -> SurfaceSample:
        """Compute the surface geometry of the pixels ``[rows, cols]`` (0-based array indices;
        a slice's step, if any, samples every step-th pixel).

        Quantities linear in the pixel coordinates (``xi``, ``eta``, ``w . centre`` and
        ``M w`` for the rotation ``M``) are each built with one broadcast addition of a row and
        a column vector; the surface point is then ``q = s w - centre``, so its Carrington
        coordinates are ``s (M w) - M centre``.
        """
        p1 = np.arange(cols.start, cols.stop, cols.step or 1, dtype=np.float64) + (1.0 - self.crpix[0])
        p2 = np.arange(rows.start, rows.stop, rows.step or 1, dtype=np.float64)[:, None] + (1.0 - self.crpix[1])

        def linear(c0: float, cx: float, ce: float) -> np.ndarray:
            """``c0 + cx * xi + ce * eta`` for every pixel."""
            return (c0 + (cx * self.cd[0, 0] + ce * self.cd[1, 0]) * p1) + (
                cx * self.cd[0, 1] + ce * self.cd[1, 1]
            ) * p2

        xi, eta = linear(0.0, 1.0, 0.0), linear(0.0, 0.0, 1.0)
        a = linear(*self.centre)
        w2 = xi * xi
        w2 += eta * eta
        w2 += 1.0
        a2 = a * a
        d2m1 = self.distance * self.distance - 1.0
        disc = a2 - w2 * d2m1
        on_disk = disc >= 0.0
        np.maximum(disc, 0.0, out=disc)
        root = np.sqrt(disc, out=disc)
        inv_w2 = np.divide(1.0, w2, out=w2)
        mu = np.sqrt(inv_w2)
        mu *= root
        s = np.subtract(a, root, out=a)
        s *= inv_w2
        a2 *= inv_w2
        rho = np.subtract(d2m1 + 1.0, a2, out=a2)
        np.maximum(rho, 0.0, out=rho)
        np.sqrt(rho, out=rho)
        m = self.to_carrington
        m_centre = m @ self.centre
        xyz = tuple(np.subtract(s * linear(*m[k]), m_centre[k]) for k in range(3))
        return SurfaceSample(on_disk, mu, rho, xyz, xi, eta)

    def carrington_to_pixel(self, lon_deg: float, lat_deg: float) -> tuple[float, float, float, bool]:
        """Project a surface point to the image.

        Parameters
        ----------
        lon_deg, lat_deg : float
            Carrington longitude and latitude of a point on the surface (degrees).

        Returns
        -------
        x, y : float
            0-based array column and row of the point.
        distance : float
            Observer-point distance in solar radii.
        visible : bool
            The point is on the hemisphere facing the observer.
        """
        lon, lat = np.deg2rad(lon_deg), np.deg2rad(lat_deg)
        p = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        q = self.to_carrington.T @ p
        v = self.centre + q
        visible = bool(-(v @ q) > 0.0)
        xi_eta = np.array([v[1] / v[0], v[2] / v[0]])
        dp = np.linalg.solve(self.cd, xi_eta)
        return (
            float(dp[0] + self.crpix[0] - 1.0),
            float(dp[1] + self.crpix[1] - 1.0),
            float(np.linalg.norm(v)),
            visible,
        )


def _get(header: Mapping, key: str, default: float | None = None) -> float:
    value = header.get(key, default)
    if value is None:
        raise HeaderGeometryError(f"header keyword {key} is required to render an image")
    try:
        value = float(value)
    except (TypeError, ValueError) as err:
        raise HeaderGeometryError(f"header keyword {key}={value!r} is not a number") from err
    if not np.isfinite(value):
        raise HeaderGeometryError(f"header keyword {key} is not finite ({value})")
    return value


def _pixel_matrix(header: Mapping) -> np.ndarray:
    """``CDELT * PC`` in arcsec per pixel; PC from ``PCi_j`` or from ``CROTA2`` as sunpy does."""
    cdelt1, cdelt2 = _get(header, "CDELT1"), _get(header, "CDELT2", header.get("CDELT1"))
    if cdelt1 == 0.0 or cdelt2 == 0.0:
        raise HeaderGeometryError("CDELT1/CDELT2 must be non-zero")
    if any(f"PC{i}_{j}" in header for i in (1, 2) for j in (1, 2)):
        pc = np.array(
            [
                [_get(header, "PC1_1", 1.0), _get(header, "PC1_2", 0.0)],
                [_get(header, "PC2_1", 0.0), _get(header, "PC2_2", 1.0)],
            ]
        )
    else:
        rot = np.deg2rad(_get(header, "CROTA2", 0.0))
        lam = cdelt2 / cdelt1
        pc = np.array([[np.cos(rot), -lam * np.sin(rot)], [np.sin(rot) / lam, np.cos(rot)]])
    return np.diag([cdelt1, cdelt2]) @ pc


def _tangent_basis(crval1: float, crval2: float) -> np.ndarray:
    """Rows: the reference direction, local east (+Tx) and local north (+Ty), in the
    helioprojective Cartesian frame (x towards Sun centre, y west, z north)."""
    a, d = crval1 * _ARCSEC, crval2 * _ARCSEC
    return np.array(
        [
            [np.cos(d) * np.cos(a), np.cos(d) * np.sin(a), np.sin(d)],
            [-np.sin(a), np.cos(a), 0.0],
            [-np.sin(d) * np.cos(a), -np.sin(d) * np.sin(a), np.cos(d)],
        ]
    )


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def jsoc_crln_obs(header: Mapping) -> float:
    """``CRLN_OBS`` as ``im_patch`` takes it (``lm-jps/proj:util/apps/im_patch.c``,
    ``get_new_CRLN_OBS``): minus 0.0818941 degrees unless bit 28 of the calibration version is
    set. The version is ``CALVER64``'s low 32 bits where the header has ``CALVER64`` (a
    negative, i.e. missing, value counts as bit 31 set), else ``CALVER32``; an absent or
    missing version (bit 31 set) means no correction."""
    crln = _get(header, "CRLN_OBS")
    calver32 = 1 << 31
    if "CALVER64" in header:
        value = _int_or_none(header["CALVER64"])
        if value is not None and value >= 0:
            calver32 = value & 0xFFFFFFFF
    elif "CALVER32" in header:
        value = _int_or_none(header["CALVER32"])
        calver32 = (value & 0xFFFFFFFF) if value is not None else calver32
    if calver32 & (1 << 31) or calver32 & _CALVER_CRLN_BIT:
        return crln
    return crln - CRLN_OBS_OFFSET


def true_carrington_longitude(header: Mapping) -> float:
    """The observer's true Carrington longitude: the emulator's internal ``_CRLN_TRUE`` when
    the header carries it (records made by the catalogue do), else `jsoc_crln_obs`."""
    truth = header.get("_CRLN_TRUE")
    if truth is not None and np.isfinite(float(truth)):
        return float(truth)
    return jsoc_crln_obs(header)


def _to_carrington(l0: float, b0: float) -> np.ndarray:
    """Rotation from helioprojective Cartesian (observer frame) to Carrington Cartesian."""
    sb, cb = np.sin(np.deg2rad(b0)), np.cos(np.deg2rad(b0))
    sl, cl = np.sin(np.deg2rad(l0)), np.cos(np.deg2rad(l0))
    hpc_to_hcc = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    hcc_to_local = np.array([[0.0, -sb, cb], [1.0, 0.0, 0.0], [0.0, cb, sb]])
    rot_l0 = np.array([[cl, -sl, 0.0], [sl, cl, 0.0], [0.0, 0.0, 1.0]])
    return rot_l0 @ hcc_to_local @ hpc_to_hcc


def observer_geometry(header: Mapping, l0: float | None = None) -> ObserverGeometry:
    """Build the `ObserverGeometry` of a FITS-style header.

    Parameters
    ----------
    header : Mapping
        Needs ``CRPIX1/2``, ``CDELT1/2`` (arcsec), ``DSUN_OBS`` (m), ``CRLN_OBS``,
        ``CRLT_OBS`` (deg); optional ``CRVAL1/2`` (arcsec, default 0), ``CROTA2`` or
        ``PCi_j``, ``RSUN_REF`` (m, default 6.96e8), ``CALVER64``/``CALVER32``, ``_CRLN_TRUE``.
    l0 : float, optional
        The observer's Carrington longitude to use (default `true_carrington_longitude`;
        im_patch's geometry passes `jsoc_crln_obs`).

    Raises
    ------
    HeaderGeometryError
        If a required keyword is missing or not a finite number.
    """
    rsun = _get(header, "RSUN_REF", _RSUN_REF_DEFAULT)
    distance = _get(header, "DSUN_OBS") / rsun
    if distance <= 1.0:
        raise HeaderGeometryError("DSUN_OBS must exceed RSUN_REF")
    basis = _tangent_basis(_get(header, "CRVAL1", 0.0), _get(header, "CRVAL2", 0.0))
    l0 = true_carrington_longitude(header) if l0 is None else float(l0)
    b0 = _get(header, "CRLT_OBS")
    pix = _pixel_matrix(header)
    return ObserverGeometry(
        crpix=(_get(header, "CRPIX1"), _get(header, "CRPIX2")),
        cd=pix * _ARCSEC,
        centre=basis @ np.array([distance, 0.0, 0.0]),
        distance=distance,
        to_carrington=_to_carrington(l0, b0) @ basis.T,
        l0=l0,
        b0=b0,
        pixel_size=float(np.sqrt(abs(np.linalg.det(pix)))) * _ARCSEC * (distance - 1.0),
    )
