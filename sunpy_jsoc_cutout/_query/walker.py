"""
The attr walker: turns a Fido query into one plain dict per OR-block (pure; no I/O).

Keys of a block dict (absent when the attr is absent):

``series`` (str), ``coaligned`` (list of str), ``start_time``/``end_time`` (`~astropy.time.Time`),
``wavelength`` (int, Å, from ``a.Wavelength``), ``wavelengths`` (list of int, from
``Wavelengths``), ``sample`` (float, s), ``notify``, ``segments`` (list), ``keywords`` (list of
``(name, operator, value)``), ``primekeys`` (dict), ``protocol`` (`ExportProtocol`), ``method``,
``filename_format``, ``record_limit``, ``requestor``, ``boxes`` (list of `Box`/`ActiveRegion`),
``reference_time``, ``tracking`` (`Tracking`), ``register``/``crop``/``full_headers`` (bool),
``level1p5`` (`Level1p5`), ``rebin`` (`Rebin`).

The walker only collects; ``_validation.check_block`` decides whether the combination is valid.
"""

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net.attr import AttrAnd, AttrOr, AttrWalker, DataAttr
from sunpy.net.jsoc.attrs import KeywordComparison

from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.exceptions import CutoutQueryError

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
    block = {}
    wlk.apply(query, block)
    return [block]


@walker.add_applier(AttrAnd)
def _apply_and(wlk, query, block):
    for sub in query.attrs:
        wlk.apply(sub, block)


def _simple(key, convert=lambda v: v):
    def applier(wlk, attr, block):
        block[key] = convert(attr.value)

    return applier


for _cls, _key in [
    (a.jsoc.Series, "series"),
    (a.jsoc.Notify, "notify"),
    (a.Sample, "sample"),
    (jc.Method, "method"),
    (jc.FilenameFormat, "filename_format"),
    (jc.RecordLimit, "record_limit"),
    (jc.Requestor, "requestor"),
    (jc.ReferenceTime, "reference_time"),
    (jc.Register, "register"),
    (jc.Crop, "crop"),
    (jc.FullHeaders, "full_headers"),
]:
    walker.add_applier(_cls)(_simple(_key))
for _cls, _key in [
    (jc.Tracking, "tracking"),
    (jc.Level1p5, "level1p5"),
    (jc.Rebin, "rebin"),
    (jc.ExportProtocol, "protocol"),
]:
    walker.add_applier(_cls)(lambda wlk, attr, block, _key=_key: block.__setitem__(_key, attr))


@walker.add_applier(a.jsoc.Protocol)
def _apply_protocol(wlk, attr, block):
    block["protocol"] = jc.ExportProtocol(attr.value)


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


@walker.add_applier(jc.Wavelengths)
def _apply_wavelengths(wlk, attr, block):
    block["wavelengths"] = list(attr.values)


@walker.add_applier(jc.CoalignedSeries)
def _apply_coaligned(wlk, attr, block):
    block["coaligned"] = list(attr.series)


@walker.add_applier(a.jsoc.Segment)
def _apply_segment(wlk, attr, block):
    block.setdefault("segments", []).append(attr.value)


@walker.add_applier(a.jsoc.PrimeKey)
def _apply_primekey(wlk, attr, block):
    block.setdefault("primekeys", {})[attr.label] = attr.value


@walker.add_applier(a.jsoc.Keyword)
def _apply_keyword(wlk, attr, block):
    msg = f"a.jsoc.Keyword({attr.value!r}) needs a comparison, e.g. a.jsoc.Keyword({attr.value!r}) == 0."
    raise CutoutQueryError(msg)


@walker.add_applier(KeywordComparison)
def _apply_keyword_comparison(wlk, attr, block):
    block.setdefault("keywords", []).append((attr.name, attr.operator, attr.value))


@walker.add_applier(jc.Box, jc.ActiveRegion)
def _apply_box(wlk, attr, block):
    block.setdefault("boxes", []).append(attr)


@walker.add_applier(a.jsoc.Cutout)
def _apply_sunpy_cutout(wlk, attr, block):
    """sunpy's ``a.jsoc.Cutout``: its arcsec box (observer taken as SDO, as sunpy documents) and flags."""
    value = attr.value
    box = jc.Box([value["x"], value["y"]] * u.arcsec, value["width"] * u.arcsec, value["height"] * u.arcsec)
    block.setdefault("boxes", []).append(box)
    block.setdefault("tracking", jc.Tracking(not int(value["t"])))
    block.setdefault("register", bool(int(value["r"])))
    block.setdefault("crop", bool(int(value["c"])))
    block.setdefault("reference_time", value["t_ref"])
