"""The arguments of the ``im_patch`` processing step (``lm-jps/proj:util/apps/im_patch.c`` #L162-187).

Checks run in im_patch's order (#L388-420), with its messages:

1. ``locunits``: ``arcsec`` (6 characters), ``pix``, ``stony``, ``carr`` (case-insensitive
   prefixes); ``boxunits``: ``arcsec``, ``pix``, ``deg``. A bad ``boxunits`` sets the *location*
   type to bad (a bug of the C, kept: the message is about locunits).
2. ``carrlong`` needs ``car_rot``: "Carrington rotation number must be provided for
   locunits=carrlong"; otherwise ``t_ref`` is needed: "t_ref must be provided for
   locunits!=carrlong".
3. "Location units not detected, locunits <value>", "patch dimensions not understood, <value>".

Single-character flags follow DRMS cmdparams (``lm-jps/drms:base/libs/cmdparams/cmdparams.c``
L1885-1906): ``t`` alone or ``t=1`` sets the flag, ``t=0`` clears it; ``t`` means *disable
tracking* (``im_patch.c`` L181). Times ``JD_0``, ``NotSpecified`` or
unparsable text mean "not given" (DRMS's ``JD_0`` sentinel).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sunpy_jsoc_cutout.testing.common.timeutil import TimeParseError, parse_drms_time

__all__ = ["ImPatchArgs", "ImPatchArgumentError", "parse_im_patch_args"]

_NOT_GIVEN = ("", "NOTSPECIFIED", "NOT SPECIFIED", "JD_0", "NONE")


class ImPatchArgumentError(ValueError):
    """An im_patch argument error; ``str(err)`` is im_patch's message."""


@dataclass(frozen=True)
class ImPatchArgs:
    """Parsed ``im_patch`` arguments (times are TAI seconds since 1977.01.01, None when not given)."""

    loctype: str
    boxtype: str
    locunits: str
    boxunits: str
    x: float
    y: float
    width: float
    height: float
    t_start: float | None
    t_stop: float | None
    t_ref: float | None
    cadence: str | None
    car_rot: int
    track: bool
    register: bool
    crop: bool
    all_segments: bool
    where: str


def _flag(args: Mapping[str, str], name: str) -> bool:
    if name not in args:
        return False
    value = str(args[name]).strip()
    if value == "":
        return True
    try:
        return int(float(value)) != 0
    except ValueError:
        return True


def _time(args: Mapping[str, str], name: str) -> float | None:
    value = str(args.get(name, "") or "").strip()
    if value.upper() in _NOT_GIVEN:
        return None
    try:
        return float(parse_drms_time(value))
    except (TimeParseError, ValueError):
        return None


def _number(args: Mapping[str, str], name: str, default: float) -> float:
    value = str(args.get(name, "") or "").strip()
    if not value:
        return default
    try:
        return float(value)
    except ValueError as err:
        raise ImPatchArgumentError(f"im_patch: invalid value '{value}' for argument '{name}'") from err


def _loctype(locunits: str) -> str:
    low = locunits.lower()
    for prefix, kind in (("arcsec", "arcsec"), ("pix", "pixels"), ("stony", "stony"), ("carr", "carrlong")):
        if low.startswith(prefix):
            return kind
    return "bad"


def _boxtype(boxunits: str) -> str:
    low = boxunits.lower()
    for prefix, kind in (("arcsec", "arcsec"), ("pix", "pixels"), ("deg", "degrees")):
        if low.startswith(prefix):
            return kind
    return "bad"


def parse_im_patch_args(args: Mapping[str, str]) -> ImPatchArgs:
    """
    Parse and check im_patch's arguments.

    Raises
    ------
    ImPatchArgumentError
        With im_patch's message, for the checks of #L388-420.
    """
    locunits = str(args.get("locunits", "NOTSPECIFIED"))
    boxunits = str(args.get("boxunits", "NOTSPECIFIED"))
    loctype, boxtype = _loctype(locunits), _boxtype(boxunits)
    if boxtype == "bad":
        loctype = "bad"  # im_patch.c: "else loctype = BOXBAD;"
    car_rot = int(_number(args, "car_rot", -1))
    t_ref = _time(args, "t_ref")
    if loctype == "carrlong":
        if car_rot < 0:
            raise ImPatchArgumentError("Carrington rotation number must be provided for locunits=carrlong")
    elif t_ref is None:
        raise ImPatchArgumentError("t_ref must be provided for locunits!=carrlong")
    if loctype == "bad":
        raise ImPatchArgumentError(f"Location units not detected, locunits {locunits}")
    cadence = str(args.get("cadence", "") or "").strip() or None
    where = str(args.get("where", "") or "").strip()
    return ImPatchArgs(
        loctype=loctype,
        boxtype=boxtype,
        locunits=locunits,
        boxunits=boxunits,
        x=_number(args, "x", 0.0),
        y=_number(args, "y", 0.0),
        width=_number(args, "width", 0.0),
        height=_number(args, "height", 0.0),
        t_start=_time(args, "t_start"),
        t_stop=_time(args, "t_stop"),
        t_ref=t_ref,
        cadence=cadence if cadence and cadence.upper() not in _NOT_GIVEN else None,
        car_rot=car_rot,
        track=not _flag(args, "t"),
        register=_flag(args, "r"),
        crop=_flag(args, "c"),
        all_segments=_flag(args, "A"),
        where=f"[? {where} ?]" if where and where.upper() != "NOTSPECIFIED" else "",
    )
