"""
The ``process`` of an export request (a frozen `Process` of step values, rendered when sent) and
its ``sizeratio`` (pure).

Grammar (``jsoc_export_manage.c`` ``ParseFields``): ``n=<limit>|step,k=v,...|step,...``; the
limit is 0 for none, ``n>0`` the first n records, ``n<0`` the last ``|n|``. Steps run in the
export page's order (``processing.js`` ``ProcessingInit``): ``aia_scale_*``, ``resize``,
``im_patch``, ``Maproj``, ``rebin``. Maproj's arguments follow ``MaprojCheck``:
``map[,grid],clon,clat,scale,cols,rows``. resize's arguments follow ``ResizeCheck``:
``regrid,do_stretchmarks,center_to,rescale[,scale_to][,c=1]``. im_patch's arguments follow the
page's order (``processing.js`` ``ImPatchCheck``):
``t_start,t_stop,t,r,c,cadence,locunits,boxunits,t_ref,car_rot,x,y,width,height``; ``h=1``
(full headers, not on the page) goes after ``c``. Times are UTC ISO without a zone, as the page
and drms send them (DRMS reads a zone-less time as UTC). Numbers are written without trailing
zeros (``-246``, ``345.6``); values never contain commas.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from astropy.time import Time

from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .coords import ImPatchLocation
from .jsoc_text import im_patch_time, number
from .series_rules import SeriesRules

__all__ = [
    "ImPatch",
    "Process",
    "Step",
    "aia_scale_step",
    "build_process",
    "im_patch_args",
    "maproj_args",
    "rebin_args",
    "resize_args",
    "size_ratio",
]


def im_patch_args(
    location: ImPatchLocation,
    *,
    t_ref: Time,
    t_start: Time | None = None,
    t_stop: Time | None = None,
    tracking: bool = True,
    register: bool = False,
    crop: bool = False,
    full_headers: bool = False,
    cadence: str | None = None,
) -> dict[str, Any]:
    """
    im_patch's arguments, in the export page's order.

    Examples
    --------
    >>> from astropy.time import Time
    >>> from sunpy_jsoc_cutout._plan.coords import ImPatchLocation
    >>> from sunpy_jsoc_cutout._plan.process import build_process, im_patch_args
    >>> loc = ImPatchLocation("arcsec", -517.2, -246.0, "arcsec", 345.6, 345.6)
    >>> args = im_patch_args(loc, t_ref=Time("2025-01-01T04:33:30"))
    >>> build_process([("im_patch", args)])
    'n=0|im_patch,t=0,r=0,c=0,locunits=arcsec,boxunits=arcsec,t_ref=2025-01-01T04:33:30.000,x=-517.2,y=-246,width=345.6,height=345.6'
    """
    args: dict[str, Any] = {}
    if t_start is not None:
        args["t_start"] = im_patch_time(t_start)
    if t_stop is not None:
        args["t_stop"] = im_patch_time(t_stop)
    args.update(t=0 if tracking else 1, r=int(register), c=int(crop))
    if full_headers:
        args["h"] = 1
    if cadence is not None:
        args["cadence"] = cadence
    args.update(locunits=location.locunits, boxunits=location.boxunits, t_ref=im_patch_time(t_ref))
    if location.car_rot is not None:
        args["car_rot"] = location.car_rot
    args.update(
        x=number(location.x), y=number(location.y), width=number(location.width), height=number(location.height)
    )
    return args


def aia_scale_step(rules: SeriesRules, pointing_table: str | None = None) -> tuple[str, dict[str, Any]]:
    """
    The level-1.5 step for an AIA series: ``aia_scale_orig`` on ``aia.lev1`` (the page's choice
    when ``lev1`` -> ``lev1p5`` names ``aia.lev1p5``), ``aia_scale_aialev1`` on the other AIA
    level-1 series.
    """
    name = "aia_scale_orig" if rules.name.lower() == "aia.lev1" else "aia_scale_aialev1"
    return name, ({"mpt": pointing_table} if pointing_table else {})


def rebin_args(
    scale: float, method: str = "boxcar", fwhm: float | None = None, nvector: int | None = None
) -> dict[str, Any]:
    """``rebin`` arguments in the page's order: ``u=0,scale=...,method=...[,FWHM=...,nvector=...]``."""
    args: dict[str, Any] = {"u": 0, "scale": number(scale, 6), "method": method}
    if fwhm is not None:
        args["FWHM"] = number(fwhm)
    if nvector is not None:
        args["nvector"] = int(nvector)
    return args


def resize_args(
    scale: float | None = None,
    *,
    regrid: int = 1,
    center_to: int = 0,
    stretchmarks: bool = False,
    crop: bool = False,
) -> dict[str, Any]:
    """
    ``resize`` arguments in the export page's order (``processing.js`` ``ResizeCheck``).

    ``regrid,do_stretchmarks,center_to,rescale`` always, ``scale_to`` when rescaling, ``c=1``
    when cropping (``jsoc_resize``'s flag).

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.process import Step, resize_args
    >>> Step.of("resize", resize_args(1.2)).render()
    'resize,regrid=1,do_stretchmarks=0,center_to=0,rescale=1,scale_to=1.2'
    >>> Step.of("resize", resize_args(regrid=0, crop=True)).render()
    'resize,regrid=0,do_stretchmarks=0,center_to=0,rescale=0,c=1'
    """
    args: dict[str, Any] = {"regrid": int(regrid), "do_stretchmarks": int(stretchmarks), "center_to": int(center_to)}
    if scale is None:
        args["rescale"] = 0
    else:
        args.update(rescale=1, scale_to=number(scale, 6))
    if crop:
        args["c"] = 1
    return args


def maproj_args(
    projection: str,
    lon: float,
    lat: float,
    scale: float,
    cols: int,
    rows: int,
    grid: float | None = None,
) -> dict[str, Any]:
    """
    ``Maproj`` arguments in the export page's order (``processing.js`` ``MaprojCheck``, L1398-1541).

    ``map`` first, ``grid`` only when given, then ``clon,clat,scale,cols,rows`` (degrees,
    degrees per pixel, pixels). The page adds ``A=1`` only with ``HmiB2ptr``, which this client
    does not send.

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.process import Step, maproj_args
    >>> Step.of("Maproj", maproj_args("cyleqa", 120.0, -15.0, 0.03, 400, 300)).render()
    'Maproj,map=cyleqa,clon=120,clat=-15,scale=0.03,cols=400,rows=300'
    >>> Step.of("Maproj", maproj_args("Postel", 7.5, 0, 0.1, 64, 64, grid=10)).render()
    'Maproj,map=Postel,grid=10,clon=7.5,clat=0,scale=0.1,cols=64,rows=64'
    """
    args: dict[str, Any] = {"map": projection}
    if grid is not None:
        args["grid"] = number(grid, 6)
    args.update(clon=number(lon, 6), clat=number(lat, 6), scale=number(scale, 8), cols=int(cols), rows=int(rows))
    return args


@dataclass(frozen=True)
class Step:
    """
    One processing step other than im_patch: its name and arguments (in the order sent).

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.process import Step
    >>> Step.of("rebin", {"u": 0, "scale": "0.25", "method": "boxcar"}).render()
    'rebin,u=0,scale=0.25,method=boxcar'
    """

    name: str
    args: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, name: str, args: Mapping[str, Any]) -> "Step":
        """A step from ``{key: value}`` (values written with ``str``)."""
        return cls(name, tuple((key, f"{value}") for key, value in args.items()))

    def render(self) -> str:
        """``name,k=v,...``."""
        return ",".join([self.name, *(f"{key}={value}" for key, value in self.args)])


@dataclass(frozen=True)
class ImPatch:
    """
    The ``im_patch`` step: where and when to cut out (rendered by `im_patch_args`).

    ``t_start``/``t_stop`` are im_patch's own time range (`cover_rows` in ``_plan.rows`` widens it).
    """

    location: ImPatchLocation
    t_ref: Time
    t_start: Time | None = None
    t_stop: Time | None = None
    tracking: bool = True
    register: bool = False
    crop: bool = False
    full_headers: bool = False
    cadence: str | None = None

    name = "im_patch"

    def render(self) -> str:
        """``im_patch,t_start=...,...,height=...``."""
        args = im_patch_args(
            self.location,
            t_ref=self.t_ref,
            t_start=self.t_start,
            t_stop=self.t_stop,
            tracking=self.tracking,
            register=self.register,
            crop=self.crop,
            full_headers=self.full_headers,
            cadence=self.cadence,
        )
        return Step.of(self.name, args).render()


@dataclass(frozen=True)
class Process:
    """
    The ``process`` of an export request: the record limit and the steps, rendered when sent.

    ``pad`` leading zeros are written before the limit's digits (``n=00``, ``n=-03``: the same
    limit for JSOC, which reads it with ``atoi``; ``_plan.plans.distinct_plans`` uses them).

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.process import Process, Step
    >>> Process((Step("aia_scale_aialev1"),), limit=-3, pad=1).render()
    'n=-03|aia_scale_aialev1'
    """

    steps: tuple[Step | ImPatch, ...] = ()
    limit: int = 0
    pad: int = 0

    def render(self) -> str:
        """``n=<limit>|step,k=v,...|step,...``."""
        sign = "-" if self.limit < 0 else ""
        head = f"n={sign}{'0' * self.pad}{abs(int(self.limit))}"
        return "|".join([head, *(step.render() for step in self.steps)])

    def __str__(self) -> str:
        return self.render()

    @property
    def im_patch(self) -> ImPatch | None:
        """The im_patch step, if there is one."""
        return next((step for step in self.steps if isinstance(step, ImPatch)), None)

    def with_limit(self, limit: int) -> "Process":
        """The process with record limit ``limit`` (and no padding)."""
        return replace(self, limit=int(limit), pad=0)

    def with_im_patch(self, step: ImPatch) -> "Process":
        """The process with its im_patch step replaced by ``step``."""
        return replace(self, steps=tuple(step if isinstance(s, ImPatch) else s for s in self.steps))


def build_process(steps: Iterable[tuple[str, Mapping[str, Any]]], limit: int = 0) -> str:
    """
    ``n=<limit>|step,k=v,...`` from ``(step, args)`` pairs (arguments in dict order).

    Examples
    --------
    >>> from sunpy_jsoc_cutout._plan.process import build_process
    >>> build_process([("aia_scale_aialev1", {}), ("rebin", {"u": 0, "scale": "0.25", "method": "boxcar"})], 10)
    'n=10|aia_scale_aialev1|rebin,u=0,scale=0.25,method=boxcar'
    """
    return Process(tuple(Step.of(name, args) for name, args in steps), int(limit)).render()


def size_ratio(
    location: ImPatchLocation,
    rules: SeriesRules,
    *,
    rebin_scale: float | None = None,
    resize_scale: float | None = None,
    map_pixels: int | None = None,
) -> float:
    """
    Output pixels over input pixels, for JSOC's ``sizeratio`` (size limits only).

    The export page divides the raw width x height by the image size whatever the units; this
    counts pixels instead (arcsec over the plate scale), so a cut-out is charged for what it is.
    Rebinning multiplies by ``scale**2``. After a ``resize`` to ``resize_scale`` arcsec/px (which
    runs before im_patch, the image keeping its size) an arcsec box counts pixels of that scale.
    The location is the one sent: a box sized in degrees
    has already become its arcsec equivalent (`~sunpy_jsoc_cutout._plan.boxgeometry.sent_location`),
    and ``boxunits=degrees`` is refused. A ``Maproj`` step (after im_patch) makes ``map_pixels``
    pixels whatever the box: that is the output (the page multiplies im_patch's ratio by
    ``cols*rows`` over the full image, charging the map as a fraction of the cut-out).
    """
    scale = {"pixels": 1.0, "arcsec": 1.0 / (resize_scale or rules.cdelt)}
    if location.boxunits not in scale:
        msg = f"im_patch is sent boxunits=pixels or arcsec only; got {location.boxunits!r}."
        raise CutoutQueryError(msg)
    per_unit = scale[location.boxunits]
    pixels = (1 + location.width * per_unit) * (1 + location.height * per_unit)
    if map_pixels is not None:
        pixels = float(map_pixels)
    ratio = pixels / (rules.shape[0] * rules.shape[1])
    if rebin_scale is not None:
        ratio *= rebin_scale**2
    return min(ratio, 1.0) if ratio > 0 else 1.0
