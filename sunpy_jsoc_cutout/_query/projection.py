"""
The map-projection attr (JSOC's ``Maproj`` step); re-exported by `sunpy_jsoc_cutout.attrs`.
"""

import math

import astropy.units as u
from astropy.coordinates import SkyCoord

from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst
from sunpy.net.attr import DataAttr

from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .options import scalar_value

__all__ = ["PROJECTIONS", "MapProjection"]

#: maproj's ``map`` values (``lm-jps/proj:util/apps/export_as_maproj.c`` L108-109) and the WCS
#: projection code it writes into ``CTYPE1/2`` for each (L1143-1144).
PROJECTIONS = {
    "carree": "CAR",
    "Cassini": "CAS",
    "Mercator": "MER",
    "cyleqa": "CEA",
    "sineqa": "GLS",
    "gnomonic": "TAN",
    "Postel": "ARC",
    "stereographic": "STG",
    "orthographic": "SIN",
    "Lambert": "ZEA",
}
_BY_NAME = {name.lower(): name for name in PROJECTIONS} | {code.lower(): name for name, code in PROJECTIONS.items()}
_BY_NAME |= {"plate_carree": "carree", "sfl": "sineqa"}


def _projection(name) -> str:
    if not isinstance(name, str) or name.strip().lower() not in _BY_NAME:
        choices = ", ".join(f"{n!r} ({c})" for n, c in PROJECTIONS.items())
        msg = f"Unknown map projection {name!r}; maproj knows {choices}."
        raise CutoutQueryError(msg)
    return _BY_NAME[name.strip().lower()]


def _degrees(value, what: str, per_pixel: bool = False) -> float:
    """A finite number of degrees from a Quantity (an angle, or an angle per pixel) or a bare number."""
    kind, example = ("an angle per pixel", "0.03 * u.deg / u.pix") if per_pixel else ("an angle", "120 * u.deg")
    result = scalar_value(
        value,
        (u.deg / u.pix, u.deg) if per_pixel else (u.deg,),
        f"The {what} must be {kind} such as {example}; got {value!r}.",
        f"The {what} must be a number of degrees{' per pixel' if per_pixel else ''} or a Quantity; got {value!r}.",
    )
    if not math.isfinite(result):
        msg = f"The {what} must be finite; got {value!r}."
        raise CutoutQueryError(msg)
    return float(result)


def _centre(center) -> tuple[float, float]:
    """Carrington longitude and latitude (degrees) of a SkyCoord or a ``(lon, lat)`` pair."""
    if isinstance(center, SkyCoord):
        frame = center.frame
        if isinstance(frame, HeliographicStonyhurst) and not isinstance(frame, HeliographicCarrington):
            if frame.obstime is None:
                msg = "A Stonyhurst map centre needs an obstime to become a Carrington longitude; give one."
                raise CutoutQueryError(msg)
            frame = center.transform_to(HeliographicCarrington(obstime=frame.obstime, observer="earth")).frame
        if not isinstance(frame, HeliographicCarrington) or not center.isscalar:
            msg = (
                "The map centre must be one heliographic point (Carrington or Stonyhurst SkyCoord) "
                f"or a (longitude, latitude) pair in Carrington degrees; got a {type(center.frame).__name__}."
            )
            raise CutoutQueryError(msg)
        return float(frame.lon.to_value(u.deg)), float(frame.lat.to_value(u.deg))
    try:
        lon, lat = center
    except (TypeError, ValueError):
        msg = f"The map centre must be a SkyCoord or a (Carrington longitude, latitude) pair; got {center!r}."
        raise CutoutQueryError(msg) from None
    return _degrees(lon, "map centre's longitude"), _degrees(lat, "map centre's latitude")


def _pixels(value, what: str) -> int:
    if isinstance(value, u.Quantity) and value.unit == u.pix and value.isscalar:
        value = value.value
        value = int(value) if float(value).is_integer() else value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"The map's {what} must be a positive whole number of pixels; got {value!r}."
        raise CutoutQueryError(msg)
    return int(value)


class MapProjection(DataAttr):
    """
    Remap each cutout to a heliographic map projection (JSOC's ``Maproj`` step, ``maproj``).

    JSOC runs ``maproj`` (``lm-jps/proj:util/apps/export_as_maproj.c``) after im_patch, as the
    export page orders its steps (``processing.js`` ``ProcessingInit``: aia_scale, resize,
    im_patch, maproj, rebin). For every image it maps ``cols`` x ``rows`` pixels of ``scale``
    degrees around a fixed Carrington point (so the map follows the Carrington rotation),
    interpolating the image by cubic convolution; pixels beyond the limb, on the far side or more
    than 90 degrees from the centre, and those outside the cut-out, are missing (NaN). The files
    carry a Carrington WCS: ``CTYPE1/2 = CRLN-<code>/CRLT-<code>``, ``CUNIT = deg``,
    ``CDELT = scale``, ``CRVAL = (lon, lat)`` of the centre, ``CRPIX = n/2 + 0.5``.

    The step is sent as the page writes it (``MaprojCheck``):
    ``Maproj,map=<name>[,grid=<deg>],clon=<deg>,clat=<deg>,scale=<deg/px>,cols=<n>,rows=<n>``.

    Parameters
    ----------
    projection : str
        maproj's name, any case, or the WCS code: ``"carree"`` (CAR, plate carree),
        ``"cyleqa"`` (CEA, Lambert cylindrical equal area), ``"Mercator"`` (MER), ``"sineqa"``
        (GLS, Sanson-Flamsteed sinusoidal), ``"Cassini"`` (CAS), ``"gnomonic"`` (TAN),
        ``"Postel"`` (ARC, azimuthal equidistant), ``"stereographic"`` (STG),
        ``"orthographic"`` (SIN), ``"Lambert"`` (ZEA, azimuthal equal area). The page offers
        carree, cyleqa, orthographic and Postel; maproj takes all ten.
    center : `~astropy.coordinates.SkyCoord` or tuple
        The map centre: a Carrington (or Stonyhurst, with an obstime) SkyCoord, or a
        ``(longitude, latitude)`` pair in Carrington degrees (Quantities or numbers).
    scale : `~astropy.units.Quantity` or float
        Degrees per map pixel at the centre, e.g. ``0.03 * u.deg / u.pix`` (a bare number is
        degrees per pixel). The page suggests at most ``CDELT1 * 215 / 3600`` (0.036 for AIA)
        to avoid undersampling.
    cols : int
        Map width in pixels.
    rows : int, optional
        Map height in pixels (default: ``cols``).
    grid : `~astropy.units.Quantity` or float, optional
        Spacing in degrees of a longitude-latitude grid drawn into the map (``grid=``): grid
        pixels are ``-inf`` on data and ``+inf`` off it.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> m = jc.MapProjection("cea", (120, -15) * u.deg, 0.03 * u.deg / u.pix, 400, 300)
    >>> m.name, m.wcs_code, m.lon, m.lat, m.cols, m.rows
    ('cyleqa', 'CEA', 120.0, -15.0, 400, 300)
    """

    def __init__(self, projection: str, center, scale, cols: int, rows: int | None = None, *, grid=None):
        super().__init__()
        self.name = _projection(projection)
        lon, lat = _centre(center)
        if not -90.0 <= lat <= 90.0:
            msg = f"The map centre's latitude must be between -90 and 90 degrees; got {lat:g}."
            raise CutoutQueryError(msg)
        self.lon, self.lat = lon % 360.0, lat
        self.scale = _degrees(scale, "map scale", per_pixel=True)
        if self.scale <= 0:
            msg = f"The map scale must be a positive number of degrees per pixel such as 0.03; got {scale!r}."
            raise CutoutQueryError(msg)
        self.cols = _pixels(cols, "cols")
        self.rows = self.cols if rows is None else _pixels(rows, "rows")
        self.grid = None if grid is None else _degrees(grid, "grid spacing")
        if self.grid is not None and self.grid <= 0:
            msg = f"The grid spacing must be a positive number of degrees; got {grid!r}."
            raise CutoutQueryError(msg)

    @property
    def wcs_code(self) -> str:
        """The projection code maproj writes in ``CTYPE1/2`` (``CRLN-<code>``)."""
        return PROJECTIONS[self.name]

    @property
    def pixels(self) -> int:
        """Pixels in each map."""
        return self.cols * self.rows

    def collides(self, other) -> bool:
        return isinstance(other, MapProjection)

    def __repr__(self) -> str:
        return (
            f"<MapProjection: {self.name} at ({self.lon:g}, {self.lat:g}) deg, {self.scale:g} deg/px, "
            f"{self.cols}x{self.rows}>"
        )
