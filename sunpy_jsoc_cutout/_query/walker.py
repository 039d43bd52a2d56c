"""
The attr walker: turns a Fido query into one `~sunpy_jsoc_cutout._query.query.CutoutQuery` per
OR-block (pure; no I/O).

While an AND-block is walked its values collect in a private dict of `CutoutQuery` field names
(absent when the attr is absent; lists become tuples); the block ends as a `CutoutQuery`, which
holds every default. The walker only collects; ``_plan.checks.check_block`` decides whether the
combination is valid.
"""

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net.attr import AttrAnd, AttrOr, AttrWalker, DataAttr
from sunpy.net.jsoc.attrs import KeywordComparison

from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .box import ActiveRegion, Box
from .export import ExportProtocol, FilenameFormat, Method, RecordLimit, Requestor
from .options import (
    CoalignedSeries,
    Crop,
    FullHeaders,
    Level1p5,
    Rebin,
    ReferenceTime,
    Register,
    Resize,
    Tracking,
    Wavelengths,
)
from .projection import MapProjection
from .query import CutoutQuery

__all__ = ["walker"]

walker = AttrWalker()


@walker.add_creator(AttrOr)
def _create_or(wlk, query):
    blocks = []
    for sub in query.attrs:
        blocks.extend(wlk.create(sub))
    return blocks


@walker.add_creator(AttrAnd, DataAttr)
def _create_and(wlk, query):
    block: dict = {}
    wlk.apply(query, block)
    return [CutoutQuery(**block)]


@walker.add_applier(AttrAnd)
def _apply_and(wlk, query, block):
    for sub in query.attrs:
        wlk.apply(sub, block)


def _append(block: dict, key: str, value) -> None:
    block[key] = (*block.get(key, ()), value)


def _simple(key, convert=lambda v: v):
    def applier(wlk, attr, block):
        block[key] = convert(attr.value)

    return applier


for _cls, _key in [
    (a.jsoc.Series, "series"),
    (a.jsoc.Notify, "notify"),
    (a.Sample, "sample"),
    (Method, "method"),
    (FilenameFormat, "filename_format"),
    (RecordLimit, "record_limit"),
    (Requestor, "requestor"),
    (ReferenceTime, "reference_time"),
    (Register, "register"),
    (Crop, "crop"),
    (FullHeaders, "full_headers"),
]:
    walker.add_applier(_cls)(_simple(_key))
for _cls, _key in [
    (Tracking, "tracking"),
    (Level1p5, "level1p5"),
    (Rebin, "rebin"),
    (Resize, "resize"),
    (MapProjection, "map_projection"),
    (ExportProtocol, "protocol"),
]:
    walker.add_applier(_cls)(lambda wlk, attr, block, _key=_key: block.__setitem__(_key, attr))


@walker.add_applier(a.jsoc.Protocol)
def _apply_protocol(wlk, attr, block):
    block["protocol"] = ExportProtocol(attr.value)


@walker.add_applier(a.Time)
def _apply_time(wlk, attr, block):
    block["start_time"], block["end_time"] = attr.start, attr.end


@walker.add_applier(a.Wavelength)
def _apply_wavelength(wlk, attr, block):
    if attr.min != attr.max:
        msg = (
            f"a.Wavelength must be a single wavelength for JSOC (got {attr.min} to {attr.max}); "
            "use a.jsoc_cutout.Wavelengths(171*u.AA, 193*u.AA) for several."
        )
        raise CutoutQueryError(msg)
    block["wavelength"] = round(attr.min.to_value(u.AA, equivalencies=u.spectral()))


@walker.add_applier(Wavelengths)
def _apply_wavelengths(wlk, attr, block):
    block["wavelengths"] = tuple(attr.values)


@walker.add_applier(CoalignedSeries)
def _apply_coaligned(wlk, attr, block):
    block["coaligned"] = tuple(attr.series)


@walker.add_applier(a.jsoc.Segment)
def _apply_segment(wlk, attr, block):
    _append(block, "segments", attr.value)


@walker.add_applier(a.jsoc.PrimeKey)
def _apply_primekey(wlk, attr, block):
    _append(block, "primekeys", (attr.label, attr.value))


@walker.add_applier(a.jsoc.Keyword)
def _apply_keyword(wlk, attr, block):
    msg = f"a.jsoc.Keyword({attr.value!r}) needs a comparison, e.g. a.jsoc.Keyword({attr.value!r}) == 0."
    raise CutoutQueryError(msg)


@walker.add_applier(KeywordComparison)
def _apply_keyword_comparison(wlk, attr, block):
    _append(block, "keywords", (attr.name, attr.operator, attr.value))


@walker.add_applier(Box, ActiveRegion)
def _apply_box(wlk, attr, block):
    _append(block, "boxes", attr)


@walker.add_applier(a.jsoc.Cutout)
def _apply_sunpy_cutout(wlk, attr, block):
    """sunpy's ``a.jsoc.Cutout``: its arcsec box (observer taken as SDO, as sunpy documents) and flags."""
    value = attr.value
    box = Box([value["x"], value["y"]] * u.arcsec, value["width"] * u.arcsec, value["height"] * u.arcsec)
    _append(block, "boxes", box)
    block.setdefault("tracking", Tracking(not int(value["t"])))
    block.setdefault("register", bool(int(value["r"])))
    block.setdefault("crop", bool(int(value["c"])))
    block.setdefault("reference_time", value["t_ref"])
