"""
Tracking, processing and export-option attrs; re-exported by `sunpy_jsoc_cutout.attrs`.
"""

import re

import astropy.units as u
from astropy.time import Time

from sunpy.net.attr import DataAttr, SimpleAttr
from sunpy.time import parse_time

from sunpy_jsoc_cutout.exceptions import CutoutQueryError

__all__ = [
    "CoalignedSeries",
    "Crop",
    "FullHeaders",
    "Level1p5",
    "Rebin",
    "ReferenceTime",
    "Register",
    "Resize",
    "Tracking",
    "Wavelengths",
]


def _no_illegal_text(value: str, what: str) -> str:
    """JSOC rejects any argument containing ``;`` or an odd number of ``'`` (``jsoc_fetch.c``)."""
    if not isinstance(value, str) or not value.strip():
        msg = f"The {what} must be a non-empty string; got {value!r}."
        raise CutoutQueryError(msg)
    if ";" in value or value.count("'") % 2:
        msg = f"The {what} {value!r} contains ';' or an unpaired quote, which JSOC rejects; remove them."
        raise CutoutQueryError(msg)
    return value


def scalar_value(value, units, bad_quantity: str, bad_type: str) -> float:
    """
    A number from a scalar Quantity (in the first of ``units`` it converts to) or a bare number.

    Raises
    ------
    CutoutQueryError
        ``bad_quantity`` for a Quantity in none of ``units`` or not scalar, ``bad_type`` for
        anything that is neither a Quantity nor a number (`bool` included).
    """
    if isinstance(value, u.Quantity):
        for unit in units if value.isscalar else ():
            try:
                return float(value.to_value(unit))
            except u.UnitConversionError:
                continue
        raise CutoutQueryError(bad_quantity)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CutoutQueryError(bad_type)
    return float(value)


def _time_or(value, keyword: str, name: str):
    if value is None or value == keyword:
        return value
    try:
        return parse_time(value)
    except (ValueError, TypeError) as err:
        msg = f"Tracking {name} must be a time or {keyword!r}; got {value!r}."
        raise CutoutQueryError(msg) from err


class Tracking(DataAttr):
    """
    Whether the box follows the Sun's rotation (at the Carrington rate), and for how long.

    JSOC's im_patch takes ``t=1`` to *disable* tracking; this attr hides that inversion:
    ``Tracking(True)`` sends ``t=0``. Without this attr the box is tracked (the JSOC export page's
    default).

    Parameters
    ----------
    enabled : bool, optional
        Track the box (default) or keep it fixed in CCD pixels.
    start : time or ``"east_limb"``, optional
        Start of tracking (im_patch ``t_start``). ``"east_limb"`` starts when the box centre
        crosses the east limb; the client computes that time and asks for an explicit range.
        Defaults to the start of ``a.Time``.
    stop : time or ``"west_limb"``, optional
        End of tracking (``t_stop``); ``"west_limb"`` ends at the west-limb crossing.
    pad_for_drift : bool, optional
        Tracking is rigid, at the Carrington rate, while the surface rotates differentially
        (about 0.18 deg/day slower at 30 deg latitude). If True, the box is widened by twice the
        expected drift over the tracked run so the feature stays inside.

    Examples
    --------
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> jc.Tracking(False).im_patch_flag
    1
    >>> jc.Tracking(start="east_limb", stop="west_limb").limb_to_limb
    True
    """

    def __init__(self, enabled: bool = True, *, start=None, stop=None, pad_for_drift: bool = False):
        super().__init__()
        self.enabled = bool(enabled)
        self.start = _time_or(start, "east_limb", "start")
        self.stop = _time_or(stop, "west_limb", "stop")
        self.pad_for_drift = bool(pad_for_drift)
        if not self.enabled and (self.start == "east_limb" or self.stop == "west_limb"):
            msg = "Limb-to-limb runs follow the box across the disk: use Tracking(True, ...) for them."
            raise CutoutQueryError(msg)
        if isinstance(self.start, Time) and isinstance(self.stop, Time) and self.stop <= self.start:
            msg = f"Tracking stop ({self.stop.isot}) must come after start ({self.start.isot}); swap them."
            raise CutoutQueryError(msg)

    @property
    def im_patch_flag(self) -> int:
        """im_patch's ``t`` flag: 0 tracks, 1 does not."""
        return 0 if self.enabled else 1

    @property
    def limb_to_limb(self) -> bool:
        """Whether either end of the run is a limb crossing."""
        return self.start == "east_limb" or self.stop == "west_limb"

    def collides(self, other) -> bool:
        return isinstance(other, Tracking)

    def __repr__(self) -> str:
        return f"<Tracking: enabled={self.enabled}, start={self.start}, stop={self.stop}>"


class ReferenceTime(SimpleAttr):
    """
    The reference time ``t_ref`` at which the box centre is placed.

    Defaults to the centre's ``obstime``, else the start of the time range. im_patch needs an
    image within about two hours of it.

    Examples
    --------
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> jc.ReferenceTime("2014-02-05 08:00").value.isot
    '2014-02-05T08:00:00.000'
    """

    def __init__(self, value):
        try:
            super().__init__(parse_time(value))
        except (ValueError, TypeError) as err:
            msg = f"ReferenceTime needs a time such as '2014-02-05 08:00'; got {value!r}."
            raise CutoutQueryError(msg) from err


class _Flag(SimpleAttr):
    def __init__(self, value: bool = True):
        if not isinstance(value, bool):
            msg = f"{self.__class__.__name__} takes True or False; got {value!r}."
            raise CutoutQueryError(msg)
        super().__init__(value)


class Register(_Flag):
    """
    Sub-pixel registration of the cutouts (im_patch ``r=1``), for smooth movies.

    The images are interpolated, so SolarSoft's ``aia_respike`` can no longer re-spike AIA data
    (a warning says so when the query is checked).
    """


class Crop(_Flag):
    """Set pixels off the solar limb to NaN (im_patch ``c=1``)."""


class FullHeaders(_Flag):
    """
    Ask im_patch to write the record's keywords with its output (``h=1``).

    ``fits`` exports carry the keywords whatever this says (``jsoc_export_as_fits``); whether JSOC
    passes ``h`` on to im_patch depends on its non-public ``jsoc.export_procs`` table.
    """


class Level1p5(DataAttr):
    """
    Level 1.5 (``aia_scale``): scale AIA images to 0.6"/px, rotate to solar north, centre.

    The step is ``aia_scale_orig`` for ``aia.lev1`` and ``aia_scale_aialev1`` for the other AIA
    level-1 series, as on the JSOC export page; it runs before im_patch.

    Parameters
    ----------
    pointing_table : str, optional
        Master pointing series for ``mpt=`` (e.g. ``"aia.master_pointing3h"``).

    Examples
    --------
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> jc.Level1p5("aia.master_pointing3h").pointing_table
    'aia.master_pointing3h'
    """

    def __init__(self, pointing_table: str | None = None):
        super().__init__()
        if pointing_table is not None and not re.fullmatch(r"\w+\.\w+", str(pointing_table)):
            msg = f"The pointing table must be a JSOC series name such as 'aia.master_pointing3h'; got {pointing_table!r}."
            raise CutoutQueryError(msg)
        self.pointing_table = pointing_table

    def collides(self, other) -> bool:
        return isinstance(other, Level1p5)


class Rebin(DataAttr):
    """
    Rebin the cutouts after im_patch (JSOC's ``rebin`` step).

    Parameters
    ----------
    scale : float
        Scale factor (0.25 makes images 4 times smaller on each axis).
    method : {"boxcar", "gaussian"}
        Smoothing before resampling.
    fwhm : float, optional
        Gaussian FWHM in pixels (``method="gaussian"`` only).
    nvector : int, optional
        Gaussian kernel length (``method="gaussian"`` only).

    Examples
    --------
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> jc.Rebin(0.25).method
    'boxcar'
    """

    def __init__(self, scale: float, method: str = "boxcar", fwhm: float | None = None, nvector: int | None = None):
        super().__init__()
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0:
            msg = f"The rebin scale must be a positive number such as 0.5; got {scale!r}."
            raise CutoutQueryError(msg)
        if method not in ("boxcar", "gaussian"):
            msg = f"The rebin method must be 'boxcar' or 'gaussian'; got {method!r}."
            raise CutoutQueryError(msg)
        if method == "boxcar" and (fwhm is not None or nvector is not None):
            msg = "fwhm and nvector only apply to method='gaussian'; drop them or switch method."
            raise CutoutQueryError(msg)
        self.scale, self.method, self.fwhm, self.nvector = float(scale), method, fwhm, nvector

    def collides(self, other) -> bool:
        return isinstance(other, Rebin)


class Resize(DataAttr):
    """
    Resize, rotate and re-centre the full-disk images before im_patch (JSOC's ``resize`` step).

    JSOC runs ``jsoc_resize`` (``lm-jps/proj:util/apps/jsoc_resize.c``): it rotates each image so
    that solar north is up (HMI's 180 deg roll first by flipping), puts Sun centre at the image
    centre and, with a ``scale``, resamples to that plate scale; the image keeps its size in
    pixels. The step runs where the export page puts it (``processing.js``): after ``aia_scale``,
    before ``im_patch``, so the cutout is cut from the resized image: a box in arcsec gives
    ``width / scale`` pixels, a box in pixels counts resized pixels.

    Parameters
    ----------
    scale : `~astropy.units.Quantity` or float, optional
        Plate scale to resample to, in arcsec per pixel (``rescale=1,scale_to=<scale>``), e.g.
        ``1.2 * u.arcsec / u.pix``; a bare number is arcsec per pixel. `None` (the default)
        only rotates and re-centres (``rescale=0``).
    method : {"bicubic", "nearest"}
        Interpolation (``regrid=1`` or ``regrid=0``).
    center_to : {"sun", "first_image", "unchanged"}
        ``center_to=0``: Sun centre to the image centre (the page's default); ``1``: to where it
        is in the first image; ``2``: where it is. Cutouts need ``"sun"``: for the other two
        jsoc_resize writes ``CRPIX`` at the image centre although the Sun is not moved there,
        so im_patch would cut the wrong place (the search refuses them).
    stretchmarks : bool
        Replicate pixels where the resampling creates empty ones instead of leaving them
        missing (``do_stretchmarks=1``).
    crop : bool
        Set pixels beyond the limb to missing (``c=1``; jsoc_resize applies it to non-AIA
        images only).

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> jc.Resize(1.2 * u.arcsec / u.pix).scale
    1.2
    >>> jc.Resize(method="nearest").regrid
    0
    """

    METHODS = {"bicubic": 1, "nearest": 0}
    CENTER_TO = {"sun": 0, "first_image": 1, "unchanged": 2}

    def __init__(
        self,
        scale=None,
        *,
        method: str = "bicubic",
        center_to: str = "sun",
        stretchmarks: bool = False,
        crop: bool = False,
    ):
        super().__init__()
        self.scale = None if scale is None else self._arcsec_per_pixel(scale)
        if method not in self.METHODS:
            msg = f"The resize method must be 'bicubic' or 'nearest' (jsoc_resize's regrid=1 or 0); got {method!r}."
            raise CutoutQueryError(msg)
        if center_to not in self.CENTER_TO:
            msg = f"Resize center_to must be 'sun', 'first_image' or 'unchanged'; got {center_to!r}."
            raise CutoutQueryError(msg)
        for name, value in (("stretchmarks", stretchmarks), ("crop", crop)):
            if not isinstance(value, bool):
                msg = f"Resize {name} takes True or False; got {value!r}."
                raise CutoutQueryError(msg)
        self.method, self.center_to, self.stretchmarks, self.crop = method, center_to, stretchmarks, crop

    @staticmethod
    def _arcsec_per_pixel(scale) -> float:
        value = scalar_value(
            scale,
            (u.arcsec / u.pix, u.arcsec),
            f"The resize scale must be an angle per pixel such as 1.2*u.arcsec/u.pix; got {scale!r}.",
            f"The resize scale must be a plate scale such as 1.2*u.arcsec/u.pix (or 1.2); got {scale!r}.",
        )
        if not (value > 0 and value < float("inf")):
            msg = f"The resize scale must be a positive plate scale in arcsec per pixel such as 1.2; got {scale!r}."
            raise CutoutQueryError(msg)
        return float(value)

    @property
    def regrid(self) -> int:
        """jsoc_resize's ``regrid``: 1 bicubic, 0 nearest neighbour."""
        return self.METHODS[self.method]

    @property
    def center_to_code(self) -> int:
        """jsoc_resize's ``center_to``: 0 Sun centre, 1 first image, 2 no change."""
        return self.CENTER_TO[self.center_to]

    def collides(self, other) -> bool:
        return isinstance(other, Resize)

    def __repr__(self) -> str:
        return f"<Resize: scale={self.scale}, method={self.method}, center_to={self.center_to}>"


class Wavelengths(DataAttr):
    """
    Several wavelengths in one query block (Fido splits an OR into separate blocks).

    On ``aia.lev1`` each wavelength becomes its own export request, because im_patch's
    nearest-frame cadence selection keeps one frame per slot whatever the wavelength.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> jc.Wavelengths(171 * u.AA, 193 * u.AA).values
    [171, 193]
    """

    def __init__(self, *wavelengths: u.Quantity):
        super().__init__()
        flat = [w for q in wavelengths for w in u.Quantity(q).flatten()] if wavelengths else []
        if not flat or any(w.unit.physical_type != "length" or w.value <= 0 for w in flat):
            msg = f"Wavelengths takes positive lengths such as 171*u.AA, 193*u.AA; got {wavelengths!r}."
            raise CutoutQueryError(msg)
        values = [round(w.to_value(u.AA)) for w in flat]
        if len(set(values)) != len(values):
            msg = f"Wavelengths lists a wavelength twice: {values}."
            raise CutoutQueryError(msg)
        self.values = values

    def collides(self, other) -> bool:
        return isinstance(other, Wavelengths)


class CoalignedSeries(DataAttr):
    """
    Co-aligned cutouts from several series (e.g. AIA and HMI) in one query block.

    Every series gets the same centre, reference time and angular box size, so the box must be
    given in arcsec or degrees, not pixels.

    Examples
    --------
    >>> from sunpy_jsoc_cutout import attrs as jc
    >>> jc.CoalignedSeries("aia.lev1_euv_12s", "hmi.M_45s").series
    ['aia.lev1_euv_12s', 'hmi.M_45s']
    """

    def __init__(self, *series: str):
        super().__init__()
        if len(series) < 2 or not all(isinstance(s, str) and s for s in series):
            msg = "CoalignedSeries takes two or more series names, e.g. ('aia.lev1_euv_12s', 'hmi.M_45s')."
            raise CutoutQueryError(msg)
        if len({s.lower() for s in series}) != len(series):
            msg = f"CoalignedSeries lists a series twice: {list(series)}."
            raise CutoutQueryError(msg)
        self.series = list(series)

    def collides(self, other) -> bool:
        return isinstance(other, CoalignedSeries)
