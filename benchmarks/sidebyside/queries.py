"""
The workloads' queries, from JSON-friendly specs (a child process gets its spec on the command line).

A *campaign* spec is the user's guide job (``docs/tutorial.rst``): ``aia.lev1``, 171/193/211/304 Å,
a Carrington-tracked box of ``box_px`` pixels (at 0.6″ a pixel, JSOC's 4096² plate scale),
``a.Sample(60 s)``, ``url-tar``. A *search* spec is one series, wavelengths, span and optional
sample. Sunpy's stock client gets the same job the only way it can: ``aia.lev1_euv_12s`` with one
``a.Wavelength`` at a time (``WAVELNTH`` is not a prime key of ``aia.lev1``) and ``a.jsoc.Cutout``
with the box in helioprojective arcsec at the start time, tracked.
"""

from __future__ import annotations

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

import sunpy.net.attrs as a
from sunpy.coordinates import frames

from sunpy_jsoc_cutout import attrs as jc
from .emulator import EMAIL

__all__ = ["ARCSEC_PER_PIXEL", "FORMAT", "campaign", "ours_query", "stock_cutout", "stock_query"]

FORMAT = "aia.lev1.{T_REC:A}.{WAVELNTH}.noproj.fits"
#: AIA's plate scale at 4096² (the guide's box is in these pixels).
ARCSEC_PER_PIXEL = 0.6
#: The guide's box centre (Carrington longitude, latitude in degrees).
CENTRE = (100.0, 10.0)


def campaign(start: str = "2014-02-05 08:00", hours: float = 8.0, box_px: int = 500, method: str = "url-tar") -> dict:
    """The guide's campaign as a spec (``box_px`` pixels a side at JSOC's plate scale)."""
    return {
        "start": start,
        "hours": hours,
        "series": "aia.lev1",
        "waves": [171, 193, 211, 304],
        "box_px": box_px,
        "sample": 60,
        "method": method,
        "tracking": True,
        "format": FORMAT,
    }


def _span(spec: dict) -> a.Time:
    start = Time(spec["start"].replace(" ", "T"), scale="utc")
    return a.Time(start, start + spec["hours"] * u.h)


def _box(spec: dict, side: u.Quantity) -> jc.Box:
    """The guide's Carrington box, or with ``spec["box"] == "helioprojective"`` the same size at disk centre."""
    if spec.get("box") == "helioprojective":  # for spans longer than the centre stays on the disk
        return jc.Box([0, 0] * u.arcsec, spec["box_px"] * ARCSEC_PER_PIXEL * u.arcsec)
    return jc.Box.carrington(CENTRE[0] * u.deg, CENTRE[1] * u.deg, side, side)


def ours_query(spec: dict, image_size: int = 4096) -> tuple:
    """Our ``Fido.search`` arguments for ``spec`` (the box in pixels of a ``image_size``² image)."""
    waves = spec["waves"]
    side = spec["box_px"] * image_size / 4096 * u.pix
    query = [
        _span(spec),
        a.jsoc.Series(spec["series"]),
        jc.Wavelengths(*(w * u.AA for w in waves)) if len(waves) > 1 else a.Wavelength(waves[0] * u.AA),
        _box(spec, side),
        jc.Tracking(spec.get("tracking", True)),
        a.jsoc.Notify(EMAIL),
    ]
    if spec.get("sample"):
        query.append(a.Sample(spec["sample"] * u.s))
    if spec.get("format"):
        query.append(jc.FilenameFormat(spec["format"]))
    if spec.get("method"):
        query.append(jc.Method(spec["method"]))
    return tuple(query)


def stock_cutout(spec: dict) -> a.jsoc.Cutout:
    """The guide's box for sunpy's ``a.jsoc.Cutout``: helioprojective arcsec seen from Earth at the start, tracked."""
    start = _span(spec).start
    centre = SkyCoord(
        CENTRE[0] * u.deg,
        CENTRE[1] * u.deg,
        frame=frames.HeliographicCarrington(obstime=start, observer="earth"),
    ).transform_to(frames.Helioprojective(obstime=start, observer="earth"))
    half = spec["box_px"] * ARCSEC_PER_PIXEL / 2 * u.arcsec
    bottom_left = SkyCoord(centre.Tx - half, centre.Ty - half, frame=centre.frame)
    top_right = SkyCoord(centre.Tx + half, centre.Ty + half, frame=centre.frame)
    return a.jsoc.Cutout(bottom_left, top_right=top_right, tracking=spec.get("tracking", True))


def stock_query(spec: dict, wave: int, cutout: bool = True) -> tuple:
    """Sunpy's stock ``JSOCClient`` query of one wavelength of ``spec`` (``aia.lev1_euv_12s``)."""
    series = "aia.lev1_euv_12s" if spec["series"] == "aia.lev1" else spec["series"]
    query = [_span(spec), a.jsoc.Series(series), a.Wavelength(wave * u.AA), a.jsoc.Notify(EMAIL)]
    if spec.get("sample"):
        query.append(a.Sample(spec["sample"] * u.s))
    if cutout:
        query.append(stock_cutout(spec))
    return tuple(query)
