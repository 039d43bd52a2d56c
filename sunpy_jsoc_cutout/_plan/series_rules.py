"""
What the client knows about JSOC series without asking JSOC.

Prime keys, slot steps and the series on which JSOC refuses processing, with sources:

* ``aia.lev1`` prime keys ``[T_REC, FSN]``: ``aia.lev1[t][304]`` means FSN=304, so the wavelength
  goes in a ``[? WAVELNTH=... ?]`` filter (sunpy/drms ``drms/tests/test_jsoc_info.py``).
* ``hmi.lev1`` prime keys ``[T_REC, FSN]`` (``hmi.lev1[][12718378-12810537]`` in JSOC scripts).
* ``aia.lev1_euv_12s`` ``[T_REC, WAVELNTH]`` step 12 s; ``hmi.M_45s`` ``[T_REC, CAMERA]`` step 45 s;
  ``hmi.sharp_720s`` ``[HARPNUM, T_REC]`` (recorded ``series_struct`` replies).
* im_patch's nearest-frame cadence selection only triggers for queries starting with the exact
  lower-case prefixes ``aia.lev1[`` and ``hmi.lev1[`` (``im_patch.c`` ``get_input_recset``).
* The export page refuses processing for ``hmi.sharp_720s(_nrt)`` and ``hmi.cea_720s(_nrt)``
  (``exportdata.d/no_processing.js``); the whole SHARP/CEA family is refused here.

The series offered for ``a.jsoc.Series`` tab completion (`registered_series`) are the entries of
this table that have a description, so the two cannot differ.

Series not listed can still be used by passing their prime keys and step (the client reads them
from ``jsoc_info?op=series_struct``) to `rules_for`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sunpy_jsoc_cutout.exceptions import CutoutQueryError

__all__ = ["SeriesInfo", "SeriesRules", "registered_series", "rules_for"]


@dataclass(frozen=True)
class SeriesRules:
    """
    Facts about one JSOC series that the request builders need.

    Parameters
    ----------
    name : str
        Series name as it is written in record sets (lower case for the lev1 series).
    prime_keys : tuple of str
        Prime keys in order; the first is the time key ``T_REC`` for every series im_patch accepts.
    step : float or None
        Slot width of ``T_REC`` in seconds, or `None` when slots are sparse (``aia.lev1``/``hmi.lev1``).
    instrument : str
        ``"AIA"``, ``"HMI"`` or ``""``.
    lev1 : bool
        True for ``aia.lev1``/``hmi.lev1``: cadence goes through im_patch's ``cadence`` argument.
    processing_refused : bool
        True for the SHARP and CEA series, on which JSOC runs no processing.
    cdelt : float
        Nominal plate scale in arcsec per pixel (for the size ratio).
    shape : tuple of int
        Full image shape ``(ny, nx)``.
    description : str
        What the series holds, for ``a.jsoc.Series`` tab completion (empty: not offered there).
    """

    name: str
    prime_keys: tuple[str, ...]
    step: float | None
    instrument: str = ""
    lev1: bool = False
    processing_refused: bool = False
    cdelt: float = 0.6
    shape: tuple[int, int] = (4096, 4096)
    description: str = ""

    @property
    def wavelength_is_prime_key(self) -> bool:
        """Whether ``WAVELNTH`` is a prime key (otherwise a wavelength needs a keyword filter)."""
        return "WAVELNTH" in self.prime_keys

    @property
    def is_aia(self) -> bool:
        """Whether the series holds AIA images."""
        return self.instrument == "AIA"


_AIA: dict[str, Any] = {"instrument": "AIA", "cdelt": 0.6}
_HMI: dict[str, Any] = {"instrument": "HMI", "cdelt": 0.504}
_SLOTS = ("T_REC", "WAVELNTH")
_KNOWN = {
    "aia.lev1_euv_12s": SeriesRules(
        "aia.lev1_euv_12s", _SLOTS, 12.0, **_AIA, description="AIA EUV images, 12 s cadence"
    ),
    "aia.lev1_uv_24s": SeriesRules("aia.lev1_uv_24s", _SLOTS, 24.0, **_AIA, description="AIA UV images, 24 s cadence"),
    "aia.lev1_vis_1h": SeriesRules(
        "aia.lev1_vis_1h", _SLOTS, 3600.0, **_AIA, description="AIA visible images, 1 h cadence"
    ),
    "aia.lev1": SeriesRules(
        "aia.lev1",
        ("T_REC", "FSN"),
        None,
        lev1=True,
        **_AIA,
        description="AIA level 1 images (sparse slots; cadence via im_patch)",
    ),
    "hmi.lev1": SeriesRules("hmi.lev1", ("T_REC", "FSN"), None, lev1=True, **_HMI),
}
#: HMI observables offered for tab completion, and what they hold.
_HMI_DESCRIBED = {"M": "HMI line-of-sight magnetograms", "Ic": "HMI continuum intensity"}
for _name in ("M", "Ic", "V", "Lw", "Ld"):
    for _step in (45, 720):
        _series = f"hmi.{_name}_{_step}s"
        _text = f"{_HMI_DESCRIBED[_name]}, {_step} s" if _name in _HMI_DESCRIBED else ""
        _KNOWN[_series.lower()] = SeriesRules(_series, ("T_REC", "CAMERA"), float(_step), **_HMI, description=_text)
_KNOWN["hmi.b_720s"] = SeriesRules("hmi.B_720s", ("T_REC",), 720.0, **_HMI)
for _series in (
    "hmi.sharp_720s",
    "hmi.sharp_720s_nrt",
    "hmi.sharp_cea_720s",
    "hmi.sharp_cea_720s_nrt",
    "hmi.cea_720s",
    "hmi.cea_720s_nrt",
):
    _KNOWN[_series] = SeriesRules(_series, ("HARPNUM", "T_REC"), 720.0, processing_refused=True, **_HMI)


def _refused(name: str) -> bool:
    low = name.lower()
    return low.startswith("hmi.") and ("sharp" in low or "cea" in low)


def registered_series() -> list[tuple[str, str]]:
    """``(name, description)`` of the series offered for ``a.jsoc.Series`` tab completion (the described ones)."""
    return [(rules.name, rules.description) for rules in _KNOWN.values() if rules.description]


def rules_for(series: str, prime_keys: tuple[str, ...] | None = None, step: float | None = None) -> SeriesRules:
    """
    The rules for ``series``, from the built-in table or from the given prime keys and step.

    Parameters
    ----------
    series : str
        JSOC series name (any case).
    prime_keys : tuple of str, optional
        Prime keys from ``series_struct``; required for series not in the built-in table.
    step : float, optional
        ``T_REC`` slot width in seconds from ``series_struct`` (``None``: not slotted).

    Returns
    -------
    SeriesRules

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.CutoutQueryError
        If the series is unknown and no prime keys were given.
    """
    known = _KNOWN.get(series.lower())
    if known is not None and prime_keys is None:
        return known
    if prime_keys is None:
        msg = (
            f"The series {series!r} is not one the client knows; pass its prime keys (from JSOC's "
            "series_struct) or use an AIA/HMI series such as 'aia.lev1_euv_12s' or 'hmi.M_45s'."
        )
        raise CutoutQueryError(msg)
    low = series.lower()
    instrument = "AIA" if low.startswith("aia.") else "HMI" if low.startswith("hmi.") else ""
    lev1 = low in ("aia.lev1", "hmi.lev1")
    return SeriesRules(
        low if lev1 else series,
        tuple(prime_keys),
        step,
        instrument=instrument,
        lev1=lev1,
        processing_refused=_refused(series),
        cdelt=0.504 if instrument == "HMI" else 0.6,
    )


@dataclass(frozen=True)
class SeriesInfo:
    """What one ``series_struct`` reply says a series has (names as JSOC spells them)."""

    name: str
    keywords: tuple[str, ...]
    segments: tuple[str, ...]
    primekeys: tuple[str, ...]

    def has(self, keyword: str) -> bool:
        """Whether the series has ``keyword`` (case-insensitive)."""
        return keyword.upper() in {k.upper() for k in self.keywords}

    def present(self, keys: Iterable[str]) -> tuple[str, ...]:
        """The names of ``keys`` the series has, in order; pseudo-keys such as ``*recnum*`` are kept."""
        known = {k.upper() for k in self.keywords}
        return tuple(k for k in keys if k.startswith("*") or k.upper() in known)

    @property
    def image_segment(self) -> str | None:
        """The first segment that is not AIA's ``spikes`` table."""
        return next((s for s in self.segments if s != "spikes"), self.segments[0] if self.segments else None)
