"""Definitions of the emulated DRMS series (keywords, segments, links, prime keys).

The keywords, segments, links, prime keys and series facts (``retention``, ``unitsize``,
``archive``, ``tapegroup``, ``primekeysinfo`` steps) of ``aia.lev1_euv_12s`` and ``hmi.M_45s``
are those of JSOC's real ``series_struct`` replies recorded on 2020-04-10 (see
`series_tables` for the recording and for how the other series are derived from these two);
segment and keyword notes are the emulator's own. The NOAA region series have no recording:
``su_rsb.NOAA_ActiveRegions`` (JSOC's private series, prime keys ObservationTime and
RegionNumber as ``processing.js``'s ``[][<n>]`` and ``copy-from-rick.py``'s ``[<time>][<n>]``
use them) and its public copy ``jsoc.noaa_active_regions`` (the same rows, written on hmidb2
by the trigger of ``export_db_functions.sql`` and by ``ingest-noaa-active-region-info.py``).
Their keyword names and order are taken from JSOC's sources (see `_NOAA_KEYWORDS`). The public
copy's prime keys are not in the sources: its ingest script lists it as
``jsoc.noaa_active_regions[][]`` (L432), so it has two, and the emulator gives it su_rsb's,
``observationtime`` then ``regionnumber``.

Storage choices (documented here because the renderer and the FITS writer rely on them):

* AIA level 1 ``image``: int16, no scaling, Rice compressed (``image_lev1.fits``);
  ``spikes``: int32 table, Rice compressed (``spikes.fits``).
* ``hmi.M_*`` ``magnetogram``: int32, BSCALE 0.1, BZERO 0, BLANK -2147483648, Rice.
* ``hmi.Ic_*`` ``continuum``: int16, BSCALE 3.0, BZERO 97304, BLANK -32768, Rice (the
  scaling JSOC uses for HMI continuum images; physical range about -1000..195600 DN/s).
* ``<series>_mod`` output series (processed exports): float32, uncompressed, no scaling; the
  segment names are the input's, AIA's image file is ``image.fits``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .series_tables import AIA_LEV1_EPOCH, aia_lev1_rows, aia_slotted_rows, hmi_rows

__all__ = [
    "NOAA_PRIVATE",
    "NOAA_PUBLIC",
    "SERIES",
    "KeywordDef",
    "LinkDef",
    "PrimeKeyInfo",
    "SegmentDef",
    "SeriesDef",
    "all_series",
    "make_mod_series",
]

MISSING_TIME = "-4712.01.01_11:59:28_TAI"
AIA_EUV = (94, 131, 171, 193, 211, 304, 335)
AIA_UV = (1600, 1700)
AIA_VIS = (4500,)
AIA_T_REC_EPOCH = "1993.01.01_00:00:04_TAI"  # as JSOC reports it (labels are 8 s off mod 12)
HMI_T_REC_EPOCH = "1993.01.01_00:00:00_TAI"


@dataclass(frozen=True)
class KeywordDef:
    """One DRMS keyword as ``series_struct`` lists it."""

    name: str
    type: str
    recscope: str
    defval: str
    units: str
    note: str
    linkinfo: str | None = None


@dataclass(frozen=True)
class SegmentDef:
    """One DRMS segment, plus how the emulator stores and draws it."""

    name: str
    type: str
    units: str | None
    protocol: str
    dims: str | None
    note: str
    filename: str
    kind: str
    storage: str
    bscale: float | None = None
    bzero: float | None = None
    blank: int | None = None
    cparms: str | None = "compress Rice"
    link: str | None = None


@dataclass(frozen=True)
class LinkDef:
    """A DRMS link to another series."""

    name: str
    target: str
    kind: str
    note: str


@dataclass(frozen=True)
class PrimeKeyInfo:
    """``primekeysinfo`` entry: whether the key is slotted and its step (seconds)."""

    name: str
    slotted: bool
    step: float | None = None
    step_text: str | None = None  # as jsoc_info prints it (the T_REC_step keyword's format)


@dataclass(frozen=True)
class SeriesDef:
    """An emulated series. ``generator`` names the record generator in the catalogue."""

    name: str
    note: str
    primekeys: tuple[str, ...]
    primekeysinfo: tuple[PrimeKeyInfo, ...]
    dbindex: tuple[str, ...]
    keywords: tuple[KeywordDef, ...]
    segments: tuple[SegmentDef, ...]
    links: tuple[LinkDef, ...]
    generator: str
    retention: int = 10000
    stagingretention: int = 3
    unitsize: int = 32
    archive: int = 1
    tapegroup: int = 1
    time_style: str = "tai"
    t_rec_epoch: str | None = None
    t_rec_step: float | None = None
    instrument: str = ""
    bytes_per_record: int = 15_000_000
    compressed: bool = True
    wavelengths: tuple[int, ...] = ()
    camera: int | None = None
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def _keyword_index(self) -> dict[str, KeywordDef]:
        return {k.name.lower(): k for k in self.keywords}

    def keyword(self, name: str) -> KeywordDef | None:
        """The keyword called ``name`` (case-insensitive), or None."""
        return self._keyword_index.get(name.lower())

    def segment(self, name: str) -> SegmentDef | None:
        """The segment called ``name`` (case-insensitive), or None."""
        low = name.lower()
        return next((s for s in self.segments if s.name.lower() == low), None)

    def keyword_names(self) -> list[str]:
        return [k.name for k in self.keywords]

    @property
    def time_key(self) -> str | None:
        """The first time-valued prime key (``T_REC``, ``ObservationTime``)."""
        return next((k for k in self.primekeys if (kd := self.keyword(k)) and kd.type == "time"), None)


_DEFVAL = {
    "time": MISSING_TIME,
    "string": "",
    "int": "-2147483648",
    "short": "-32768",
    "longlong": "-9223372036854775808",
    "float": "nan",
    "double": "nan",
}


def _k(
    name: str,
    ktype: str,
    units: str = "none",
    note: str = "",
    recscope: str = "variable",
    defval: str | None = None,
    linkinfo: str | None = None,
) -> KeywordDef:
    return KeywordDef(name, ktype, recscope, _DEFVAL[ktype] if defval is None else defval, units, note, linkinfo)


def _defs(rows) -> tuple[KeywordDef, ...]:
    """`KeywordDef` objects of `series_tables` rows (no notes: JSOC's are not copied)."""
    return tuple(KeywordDef(r.name, r.type, r.recscope, r.defval, r.units, "", r.linkinfo) for r in rows)


def _aia_segments(link: str | None) -> tuple[SegmentDef, ...]:
    if link:
        kw: dict[str, Any] = {"type": "int", "units": None, "protocol": f"link via {link}", "dims": None, "link": link}
        return (
            SegmentDef(
                "image", note="AIA level 1 image", filename="image_lev1.fits", kind="aia", storage="int16", **kw
            ),
            SegmentDef(
                "spikes", note="Cosmic ray information", filename="spikes.fits", kind="spikes", storage="int32", **kw
            ),
        )
    return (
        SegmentDef("image", "int", None, "fits", "4096x4096", "AIA level 1 image", "image_lev1.fits", "aia", "int16"),
        SegmentDef("spikes", "int", None, "fits", "3x1000", "Cosmic ray information", "spikes.fits", "spikes", "int32"),
    )


def _aia_lev1() -> SeriesDef:
    return SeriesDef(
        name="aia.lev1",
        note="AIA Level 1",
        primekeys=("T_REC", "FSN"),
        primekeysinfo=(PrimeKeyInfo("T_REC", True, 1.0, "1.000000"), PrimeKeyInfo("FSN", False)),
        dbindex=("T_REC", "FSN"),
        keywords=_defs(aia_lev1_rows()),
        segments=_aia_segments(None),
        links=(),
        generator="aia_lev1",
        retention=60,
        unitsize=32,
        tapegroup=2,
        time_style="iso_z",
        t_rec_epoch=AIA_LEV1_EPOCH,
        t_rec_step=1.0,
        instrument="aia",
        bytes_per_record=10_000_000,
        wavelengths=AIA_EUV + AIA_UV + AIA_VIS,
    )


def _aia_slotted(name: str, step: float, waves: tuple[int, ...], note: str) -> SeriesDef:
    step_text = f"{step:f}"  # JSOC prints aia.lev1_euv_12s's step as "12.000000"
    return SeriesDef(
        name=name,
        note=note,
        primekeys=("T_REC", "WAVELNTH"),
        primekeysinfo=(PrimeKeyInfo("T_REC", True, step, step_text), PrimeKeyInfo("WAVELNTH", False)),
        dbindex=("T_REC", "WAVELNTH"),
        keywords=_defs(aia_slotted_rows(step_text)),
        segments=_aia_segments("lev1"),
        links=(LinkDef("lev1", "aia.lev1", "DYNAMIC", "Link to AIA level 1"),),
        generator="aia_slotted",
        retention=0,
        stagingretention=3,
        unitsize=1,
        archive=0,
        tapegroup=0,
        time_style="iso_z",
        t_rec_epoch=AIA_T_REC_EPOCH,
        t_rec_step=step,
        instrument="aia",
        bytes_per_record=10_000_000,
        wavelengths=waves,
    )


def _hmi_segment(magnetic: bool) -> SegmentDef:
    if magnetic:
        return SegmentDef(
            "magnetogram", "int", "Gauss", "fits", "4096x4096", "magnetogram", "magnetogram.fits", "magnetogram",
            "int32", 0.1, 0.0, -2147483648,
        )  # fmt: skip
    return SegmentDef(
        "continuum", "short", "DN/s", "fits", "4096x4096", "continuum intensity", "continuum.fits", "continuum",
        "int16", 3.0, 97304.0, -32768,
    )  # fmt: skip


def _hmi(name: str, step: float, camera: int, observable: str) -> SeriesDef:
    magnetic = observable == "magnetogram"
    seg = _hmi_segment(magnetic)
    step_text = f"{step:.1f}"  # JSOC prints hmi.M_45s's step as "45.0"
    assert seg.bscale is not None, "HMI segments are scaled"
    assert seg.bzero is not None, "HMI segments are scaled"
    assert seg.units is not None, "HMI segments have units"
    rows = hmi_rows(
        seg.name, seg.bscale, seg.bzero, seg.units, "MAGNETOGRAM" if magnetic else "CONTINUUM INTENSITY", step_text
    )
    cadence = "45 seconds" if step == 45 else "720 seconds"
    note = f"{'magnetograms' if magnetic else 'continuum intensities'} with a cadence of {cadence}."
    return SeriesDef(
        name=name,
        note=note,
        primekeys=("T_REC", "CAMERA"),
        primekeysinfo=(PrimeKeyInfo("T_REC", True, step, step_text), PrimeKeyInfo("CAMERA", False)),
        dbindex=("T_REC", "CAMERA"),
        keywords=_defs(rows),
        segments=(seg,),
        links=(),
        generator="hmi",
        retention=10000,
        stagingretention=3,
        unitsize=32,
        archive=1,
        tapegroup=6,
        time_style="tai",
        t_rec_epoch=HMI_T_REC_EPOCH,
        t_rec_step=step,
        instrument="hmi",
        bytes_per_record=15_000_000,
        camera=camera,
    )


#: The keywords of the NOAA region series, in the column order of JSOC's copy trigger
#: (``lm-jps/proj:export/scripts/export_db_functions.sql`` L8: observationtime, regionnumber,
#: zurichclass, magnetictype, spotcount, area, latitudehg, longitudehg, longitudecm,
#: longitudinalextent; the same order as Turmon's ``hmi_noaa_info_empty.m``), with
#: ``su_rsb.NOAA_ActiveRegions``'s spelling as JSOC's modules read them
#: (``mag/harp/apps/mharp_match.c`` L188-212). Types, units and notes are the emulator's own.
_NOAA_KEYWORDS = (
    ("ObservationTime", "time", "UT", "Time of the NOAA observation (daily, 00:00 UT)"),
    ("RegionNumber", "int", "none", "NOAA active region number"),
    ("ZurichClass", "string", "none", "McIntosh class"),
    ("MagneticType", "string", "none", "Mount Wilson class"),
    ("SpotCount", "int", "none", "number of spots"),
    ("Area", "int", "millionths", "Area in millionths of a hemisphere"),
    ("LatitudeHG", "int", "degree", "Heliographic latitude (S negative)"),
    ("LongitudeHG", "int", "degree", "Carrington longitude"),
    ("LongitudeCM", "int", "degree", "Longitude from central meridian (W positive)"),
    ("LongitudinalExtent", "int", "degree", "longitudinal extent"),
)
#: The public copy's bookkeeping keywords, written by ``ingest-noaa-active-region-info.py``
#: (L27-28, L361-362: the SWPC file and its modification time, ``%Y%m%d_%H%M%S``). Rows copied
#: from ``su_rsb`` by the trigger or ``copy-from-rick.py`` do not carry them, so here they are
#: always missing (the emulator's regions are all such rows).
_NOAA_COPY_EXTRA = (
    ("swpc_file", "string", "none", "SWPC Solar Region Summary file"),
    ("swpc_file_mod_time", "string", "none", "modification time of the SWPC file"),
)


def _noaa(name: str, note: str, lower: bool) -> SeriesDef:
    """A NOAA region series. ``lower``: the keyword names as JSOC's ingest script and copy
    trigger spell them (lower case) rather than su_rsb's mixed case."""
    rows = _NOAA_KEYWORDS + (_NOAA_COPY_EXTRA if lower else ())
    keywords = tuple(_k(kname.lower() if lower else kname, ktype, units, knote) for kname, ktype, units, knote in rows)
    primekeys = tuple(k.name for k in keywords[:2])
    return SeriesDef(
        name=name,
        note=note,
        primekeys=primekeys,
        primekeysinfo=tuple(PrimeKeyInfo(k, False) for k in primekeys),
        dbindex=primekeys,
        keywords=keywords,
        segments=(),
        links=(),
        generator="noaa",
        retention=10000,
        unitsize=1000,
        archive=0,
        tapegroup=0,
        time_style="ut",
        instrument="noaa",
        bytes_per_record=0,
        compressed=False,
    )


NOAA_PRIVATE = "su_rsb.NOAA_ActiveRegions"
NOAA_PUBLIC = "jsoc.noaa_active_regions"


def _build() -> dict[str, SeriesDef]:
    defs = [
        _aia_lev1(),
        _aia_slotted("aia.lev1_euv_12s", 12.0, AIA_EUV, "AIA Level 1, 12 second cadence"),
        _aia_slotted("aia.lev1_uv_24s", 24.0, AIA_UV, "AIA Level 1, 24 second cadence"),
        _aia_slotted("aia.lev1_vis_1h", 3600.0, AIA_VIS, "AIA Level 1, 3600 second cadence"),
        _hmi("hmi.M_45s", 45.0, 2, "magnetogram"),
        _hmi("hmi.Ic_45s", 45.0, 2, "continuum"),
        _hmi("hmi.M_720s", 720.0, 3, "magnetogram"),
        _hmi("hmi.Ic_720s", 720.0, 3, "continuum"),
        _noaa(NOAA_PRIVATE, "NOAA Active Regions from SWPC daily reports", lower=False),
        _noaa(NOAA_PUBLIC, "NOAA Active Regions from SWPC daily reports (public copy)", lower=True),
    ]
    return {d.name: d for d in defs}


SERIES: dict[str, SeriesDef] = _build()


def all_series() -> list[SeriesDef]:
    """All stored (non ``_mod``) series, in catalogue order."""
    return list(SERIES.values())


def make_mod_series(base: SeriesDef) -> SeriesDef:
    """The ``<series>_mod`` output series of processed exports: same keywords (no links) and
    segment names, float32 uncompressed segments; AIA's image file is ``image.fits``."""
    segments = tuple(
        SegmentDef(
            s.name, "float", s.units, "fits", None, s.note, f"{s.name}.fits", s.kind, "float32", None, None, None, None
        )
        for s in base.segments
        if s.kind != "spikes"
    )
    keywords = tuple(dataclasses.replace(k, linkinfo=None) for k in base.keywords)
    keywords += (_k("RequestID", "string", note="export request id"), _k("SOURCE", "string", note="input record"))
    return dataclasses.replace(
        base,
        name=f"{base.name}_mod",
        note=f"{base.note} (processed export output)",
        keywords=keywords,
        segments=segments,
        links=(),
        generator="mod",
        retention=7,
        compressed=False,
        archive=0,
    )
