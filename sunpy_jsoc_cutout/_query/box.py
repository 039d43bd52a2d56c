"""
The cutout-box attrs (`Box`, `ActiveRegion`); re-exported by `sunpy_jsoc_cutout.attrs`.

Single-attr checks run here, when the attr is built; checks that need other attrs of the same
query run in ``_validation.py``, and checks that need the reference record in ``_coords.py``.
"""

import numpy as np

import astropy.units as u
from astropy.coordinates import BaseCoordinateFrame, SkyCoord, UnitSphericalRepresentation

from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst, Helioprojective
from sunpy.net.attr import DataAttr

from sunpy_jsoc_cutout.config import NOAA_SERIES, NOAA_SERIES_INTERNAL
from sunpy_jsoc_cutout.exceptions import CutoutQueryError

# The NOAA series names are defined once, in config (the default of conf.noaa_series).
__all__ = ["NOAA_SERIES", "NOAA_SERIES_INTERNAL", "ActiveRegion", "Box"]

_ANGLE_OR_PIX = "a size in arcsec (any angle unit, e.g. 300*u.arcsec), degrees (e.g. 10*u.deg) or pixels (500*u.pix)"


def _box_size(value, name: str) -> u.Quantity:
    """Check one box dimension: a positive scalar angle or pixel Quantity."""
    if not isinstance(value, u.Quantity) or not value.isscalar:
        msg = f"The box {name} must be a scalar Quantity: {_ANGLE_OR_PIX}; got {value!r}."
        raise CutoutQueryError(msg)
    if value.unit != u.pix and value.unit.physical_type != "angle":
        msg = f"The box {name} has unit {value.unit}; give {_ANGLE_OR_PIX}."
        raise CutoutQueryError(msg)
    if not np.isfinite(value.value):
        msg = (
            f"The box {name} must be a finite number; got {value}, which im_patch cannot cut out. "
            f"Give the full {name} of the box, e.g. 300*u.arcsec."
        )
        raise CutoutQueryError(msg)
    if not value.value > 0:
        msg = f"The box {name} must be positive; got {value}. Give the full {name} of the box, e.g. 300*u.arcsec."
        raise CutoutQueryError(msg)
    return value


def _box_units(width: u.Quantity, height: u.Quantity) -> str:
    """im_patch ``boxunits`` for a width/height pair (both must use the same kind of unit)."""
    kinds = {q.unit == u.pix for q in (width, height)}
    if len(kinds) == 2:
        msg = f"The box width ({width}) and height ({height}) must both be angles or both be pixels."
        raise CutoutQueryError(msg)
    return "pixels" if kinds == {True} else "arcsec"


def _check_finite_centre(values: u.Quantity, what: str) -> None:
    """Refuse a centre with a NaN or infinite component (im_patch would get ``x=nan``)."""
    if not np.all(np.isfinite(u.Quantity(values).value)):
        msg = (
            f"The box centre must be finite; got {what} {values}, which would be sent to im_patch as 'nan' "
            "or 'inf'. Give a finite position (e.g. [-517, -246]*u.arcsec)."
        )
        raise CutoutQueryError(msg)


def _check_latitude(lat: u.Quantity) -> u.Quantity:
    lat = u.Quantity(lat, u.deg)
    _check_finite_centre(lat, "latitude")
    if abs(lat.to_value(u.deg)) > 90:
        msg = f"A latitude must lie between -90 deg and 90 deg; got {lat}. North is positive, south negative."
        raise CutoutQueryError(msg)
    return lat


class _CutoutBox(DataAttr):
    """What `Box` and `ActiveRegion` share: they never collide, and each is equal only to itself."""

    def collides(self, other) -> bool:
        # Two boxes are refused with a clear message when the query is checked (``_validation``);
        # colliding here would only give Python's "unsupported operand type(s) for &".
        return False

    def __eq__(self, other) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)


class Box(_CutoutBox):
    """
    The cutout box: its centre and size (im_patch's ``x``, ``y``, ``width``, ``height``).

    The centre may be a `~astropy.coordinates.SkyCoord` in any frame:

    * `~sunpy.coordinates.Helioprojective` from any observer (SDO, Earth, Solar Orbiter...):
      it is transformed to SDO's view at the reference time, with SDO's position taken from the
      reference record's keywords (``HGLN_OBS``, ``HGLT_OBS``, ``DSUN_OBS``), never Earth's, and
      sent as ``locunits=arcsec``;
    * `~sunpy.coordinates.HeliographicStonyhurst`: sent as ``locunits=stony`` (longitude from
      SDO's central meridian, latitude);
    * `~sunpy.coordinates.HeliographicCarrington`: sent as ``locunits=carrlong`` with ``car_rot``,
      the Carrington rotation whose central-meridian crossing of that longitude is nearest the
      requested time. This needs tracking.

    or a pair of `~astropy.units.Quantity` values: ``[x, y]*u.arcsec`` (already in SDO's
    helioprojective view at the reference time, as typed on the JSOC export page) or
    ``[x, y]*u.pix`` (1-based pixel position in the stored image).

    Parameters
    ----------
    center : `~astropy.coordinates.SkyCoord` or `~astropy.units.Quantity`
        The box centre.
    width : `~astropy.units.Quantity`
        Full width, in an angle unit (arcsec, or degrees of heliographic longitude when the unit
        is ``deg``) or in ``u.pix``.
    height : `~astropy.units.Quantity`, optional
        Full height; defaults to ``width``.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        For a non-positive size, a missing or mixed unit, or a centre that is not a scalar.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import frames
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> box = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
    >>> box.locunits, box.boxunits, box.height
    ('arcsec', 'arcsec', <Quantity 345.6 arcsec>)
    >>> ar = SkyCoord(20 * u.deg, -15 * u.deg, frame=frames.HeliographicStonyhurst, obstime="2014-02-05T08:00")
    >>> jc.Box(ar, 10 * u.deg).locunits
    'stony'
    """

    def __init__(self, center, width: u.Quantity, height: u.Quantity = None):
        super().__init__()
        self.width = _box_size(width, "width")
        self.height = _box_size(width if height is None else height, "height")
        self.boxunits = _box_units(self.width, self.height)
        if self.boxunits == "arcsec" and self.width.unit == u.deg:
            self.boxunits = "degrees"
        self.center, self.position, self.locunits = self._parse_center(center)
        self.corners: tuple[SkyCoord, SkyCoord] | None = None

    @staticmethod
    def _parse_center(center):
        if isinstance(center, BaseCoordinateFrame):
            center = SkyCoord(center)
        if isinstance(center, SkyCoord):
            if not center.isscalar:
                msg = f"The box centre must be a single coordinate; got {len(center)} of them."
                raise CutoutQueryError(msg)
            sph = center.represent_as(UnitSphericalRepresentation)
            _check_finite_centre(u.Quantity([sph.lon, sph.lat]), "the coordinate")
            return center, None, _locunits_for_frame(center)
        if isinstance(center, u.Quantity) and center.shape == (2,):
            _check_finite_centre(center, "the position")
            if center.unit == u.pix:
                return None, center, "pixels"
            if center.unit.physical_type == "angle":
                return None, center.to(u.arcsec), "arcsec"
        msg = (
            "The box centre must be a SkyCoord, or a pair [x, y]*u.arcsec (SDO's view) or [x, y]*u.pix; "
            f"got {center!r}."
        )
        raise CutoutQueryError(msg)

    @classmethod
    def from_corners(cls, bottom_left: SkyCoord, top_right: SkyCoord) -> "Box":
        """
        A box from its bottom-left and top-right corners (both in one frame).

        Helioprojective corners give a box in arcsec (corners transformed to SDO's view);
        heliographic corners give a box in degrees centred on the mid-point.

        Parameters
        ----------
        bottom_left, top_right : `~astropy.coordinates.SkyCoord`
            The corners.

        Returns
        -------
        Box

        Examples
        --------
        >>> import astropy.units as u
        >>> from astropy.coordinates import SkyCoord
        >>> from sunpy.coordinates import frames
        >>> from sunpy_jsoc_cutout import attrs as jc
        >>> kw = dict(frame=frames.Helioprojective, obstime="2014-02-05T08:00", observer="earth")
        >>> box = jc.Box.from_corners(
        ...     SkyCoord(-700 * u.arcsec, -400 * u.arcsec, **kw), SkyCoord(-300 * u.arcsec, -100 * u.arcsec, **kw)
        ... )
        >>> print(box.width.to("arcsec"), box.height.to("arcsec"))
        400.0 arcsec 300.0 arcsec
        """
        bl, tr = SkyCoord(bottom_left), SkyCoord(top_right)
        if not (bl.isscalar and tr.isscalar) or not bl.is_equivalent_frame(tr):
            msg = "The two corners must be single coordinates in the same frame (same observer and obstime)."
            raise CutoutQueryError(msg)
        unit = u.arcsec if isinstance(bl.frame, Helioprojective) else u.deg
        lon1, lat1, lon2, lat2 = (q.to(unit) for q in _lonlat(bl) + _lonlat(tr))
        if not (lon2 > lon1 and lat2 > lat1):
            msg = "The top-right corner must lie right of and above the bottom-left corner; swap them."
            raise CutoutQueryError(msg)
        center = SkyCoord((lon1 + lon2) / 2, (lat1 + lat2) / 2, frame=bl.frame)
        box = cls(center, lon2 - lon1, lat2 - lat1)
        box.corners = (bl, tr)
        return box

    @classmethod
    def stonyhurst(cls, lon: u.Quantity, lat: u.Quantity, width: u.Quantity, height: u.Quantity | None = None) -> "Box":
        """
        A box centred at a Stonyhurst (longitude from SDO's central meridian, latitude) position.

        This is the export page's ``LocUnits=stony``; the position needs no obstime.

        Examples
        --------
        >>> import astropy.units as u
        >>> from sunpy_jsoc_cutout import attrs as jc
        >>> jc.Box.stonyhurst(-30 * u.deg, 12 * u.deg, 200 * u.arcsec).position
        <Quantity [-30.,  12.] deg>
        """
        _check_finite_centre(u.Quantity(lon, u.deg), "longitude")
        box = cls([0, 0] * u.pix, width, height)
        box.locunits, box.position = "stony", u.Quantity([u.Quantity(lon, u.deg), _check_latitude(lat)])
        return box

    @classmethod
    def carrington(
        cls,
        lon: u.Quantity,
        lat: u.Quantity,
        width: u.Quantity,
        height: u.Quantity | None = None,
        car_rot: int | None = None,
    ) -> "Box":
        """
        A box centred at a Carrington position (the export page's ``LocUnits=carrlong``).

        ``car_rot`` defaults to the rotation whose central-meridian crossing of ``lon`` is
        nearest the requested time. Carrington boxes need tracking.

        Examples
        --------
        >>> import astropy.units as u
        >>> from sunpy_jsoc_cutout import attrs as jc
        >>> jc.Box.carrington(120 * u.deg, 12 * u.deg, 10 * u.deg, car_rot=2145).car_rot
        2145
        """
        lon = u.Quantity(lon, u.deg)
        _check_finite_centre(lon, "longitude")
        if not 0 <= lon.to_value(u.deg) <= 360:
            msg = f"A Carrington longitude must lie between 0 and 360 deg; got {lon}."
            raise CutoutQueryError(msg)
        box = cls([0, 0] * u.pix, width, height)
        box.locunits, box.position = "carrlong", u.Quantity([lon, _check_latitude(lat)])
        box.car_rot = None if car_rot is None else int(car_rot)
        return box

    car_rot: int | None = None

    def __repr__(self) -> str:
        where = self.center if self.center is not None else self.position
        return f"<{self.__class__.__name__}: {self.locunits} {where}, {self.width} x {self.height}>"


def _lonlat(coord: SkyCoord) -> tuple[u.Quantity, u.Quantity]:
    if isinstance(coord.frame, Helioprojective):
        return coord.Tx, coord.Ty
    return coord.lon.wrap_at(180 * u.deg) if not isinstance(
        coord.frame, HeliographicCarrington
    ) else coord.lon, coord.lat


def _locunits_for_frame(center: SkyCoord) -> str:
    frame = center.frame
    if isinstance(frame, Helioprojective):
        return "arcsec"
    if isinstance(frame, HeliographicCarrington):
        return "carrlong"
    if isinstance(frame, HeliographicStonyhurst):
        return "stony"
    msg = (
        f"A box centre in the {frame.name} frame is not supported; use a Helioprojective, "
        "HeliographicStonyhurst or HeliographicCarrington SkyCoord."
    )
    raise CutoutQueryError(msg)


class ActiveRegion(_CutoutBox):
    """
    A box centred on a NOAA active region, resolved through JSOC's NOAA series.

    As on the JSOC export page, numbers below 7000 get 10000 added (``1158`` means 11158); the
    record nearest central meridian gives a Stonyhurst centre (``locunits=stony``) and the
    reference time ``t_ref``. The region must be known to the series: the client raises
    `~sunpy_jsoc_cutout.exceptions.UnknownActiveRegionError` otherwise.

    Parameters
    ----------
    number : int
        NOAA active region number.
    width : `~astropy.units.Quantity`
        Box width (angle or pixels).
    height : `~astropy.units.Quantity`, optional
        Box height; defaults to ``width``.
    series : str, optional
        The NOAA series to query (default ``conf.noaa_series``, ``jsoc.noaa_active_regions``, the
        public server's copy; ``su_rsb.NOAA_ActiveRegions`` is asked where that does not exist).

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> ar = jc.ActiveRegion(1158, 300 * u.arcsec)
    >>> ar.number, ar.lookup_recordset
    (11158, 'jsoc.noaa_active_regions[? RegionNumber=11158 ?]')
    """

    def __init__(self, number: int, width: u.Quantity, height: u.Quantity = None, series: str = NOAA_SERIES):
        super().__init__()
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            msg = f"A NOAA active region number must be a positive integer such as 11158; got {number!r}."
            raise CutoutQueryError(msg)
        self.number = number + 10000 if number < 7000 else number
        self.width = _box_size(width, "width")
        self.height = _box_size(width if height is None else height, "height")
        self.boxunits = _box_units(self.width, self.height)
        if self.boxunits == "arcsec" and self.width.unit == u.deg:
            self.boxunits = "degrees"
        self.series = series
        self.locunits = "stony"

    @property
    def lookup_recordset(self) -> str:
        """
        The record set the client sends to ``jsoc_info?op=rs_list`` to resolve the region.

        A keyword filter rather than a prime-key value: the prime-key order of the public copy is
        not in JSOC's sources, and the filter selects the same records in either series.
        """
        return self.lookup_in(self.series)

    def lookup_in(self, series: str) -> str:
        """The record set of this region in ``series``."""
        return f"{series}[? RegionNumber={self.number} ?]"

    def __repr__(self) -> str:
        return f"<ActiveRegion: NOAA {self.number}, {self.width} x {self.height}>"
