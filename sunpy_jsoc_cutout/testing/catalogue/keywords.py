"""Keyword values of emulated records, computed column-wise from generator base columns.

Per-record "randomness" (QUALITY, pointing jitter, T_OBS fractions) is a deterministic hash of
FSN (AIA) or slot index (HMI). About 3 in 1000 records have QUALITY 0x80000000 (no image);
about 7 in 1000 others have a harmless non-negative QUALITY bit set.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sunpy_jsoc_cutout.testing.common.timeutil import DAY, utc_to_tai
from sunpy_jsoc_cutout.testing.sun.ephemeris import CALVER_BIT28, RSUN_REF, observer_keywords
from .generators import AIA_CHANNELS, FSN0, U0_UTC
from .series import SeriesDef

__all__ = ["column_function", "hash01", "hmi_exposure", "quality_values"]

QUALITY_MISSING = -2147483648  # 0x80000000 as a signed 32-bit value
EPHEMERIS = ("HGLN_OBS", "HGLT_OBS", "DSUN_OBS", "OBS_VR", "CRLN_OBS", "CRLT_OBS", "CAR_ROT", "RSUN_OBS")

# wavelength: (EXPTIME s, CDELT arcsec/px, CROTA2 deg, CRPIX1 offset, CRPIX2 offset, INSTRUME, DATAMEAN)
AIA_TABLE = {
    94: (2.90, 0.600165, -0.0520, 3.11, 1.94, "AIA_4", 1.9),
    131: (2.90, 0.600698, -0.1060, 2.38, 1.02, "AIA_1", 6.5),
    171: (2.00, 0.599489, 0.0130, 2.14, 0.87, "AIA_3", 240.0),
    193: (2.00, 0.600109, -0.0790, 1.57, 2.65, "AIA_2", 190.0),
    211: (2.90, 0.600758, -0.0410, 2.90, 1.71, "AIA_2", 60.0),
    304: (2.90, 0.600165, -0.1390, 3.03, 2.29, "AIA_4", 25.0),
    335: (2.90, 0.600737, -0.0960, 1.93, 1.45, "AIA_1", 3.1),
    1600: (2.99, 0.600979, 0.0210, 2.52, 0.33, "AIA_3", 70.0),
    1700: (1.00, 0.600979, 0.0210, 2.49, 0.31, "AIA_3", 900.0),
    4500: (0.50, 0.600979, 0.0210, 2.47, 0.29, "AIA_3", 4500.0),
}


def hash01(values: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic uniform numbers in [0, 1) from integers (splitmix64)."""
    with np.errstate(over="ignore"):
        z = np.asarray(values).astype(np.uint64) + np.uint64(salt) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(2**53)


def quality_values(ids: np.ndarray) -> np.ndarray:
    """QUALITY from a per-record integer id (int64; 0x80000000 stored as -2147483648)."""
    h = hash01(ids, 7)
    bits = np.left_shift(1, 2 + (hash01(ids, 8) * 8).astype(np.int64))
    return np.where(h < 0.003, QUALITY_MISSING, np.where(h < 0.01, bits, 0)).astype(np.int64)


def _table(wave: np.ndarray, col: int) -> np.ndarray:
    lookup = {w: row[col] for w, row in AIA_TABLE.items()}
    uniq, inverse = np.unique(wave, return_inverse=True)
    values = np.asarray([lookup[int(w)] for w in uniq], dtype=object if col == 5 else float)
    return values[inverse.reshape(wave.shape)] if len(uniq) else np.zeros(wave.shape, values.dtype)


def _ephemeris(get: Callable, name: str, t_key: str) -> np.ndarray:
    eph = observer_keywords(get(t_key), get("_CRLN_FIX_DATE"))
    return eph[name]


def _calver(get: Callable, t_key: str, base_value: int) -> np.ndarray:
    eph = observer_keywords(get(t_key), get("_CRLN_FIX_DATE"))
    return np.where(eph["CRLN_BIT28"], base_value | CALVER_BIT28, base_value).astype(np.int64)


def _date_obs(get: Callable, exposure: np.ndarray | float) -> np.ndarray:
    """DATE__OBS (a time keyword in the real series): the start of the exposure."""
    return np.asarray(get("T_OBS") - np.asarray(exposure) / 2, dtype=float)


def _aia_camera(wave: np.ndarray) -> np.ndarray:
    """CAMERA: the number in INSTRUME (``AIA_4`` is camera 4)."""
    return np.asarray([int(str(v).rsplit("_", 1)[-1]) for v in _table(wave, 5)], dtype=np.int64)


def aia_lev1_column(name: str, base: dict, get: Callable) -> np.ndarray | None:
    """Keyword ``name`` of aia.lev1 records (``get`` returns other columns, cached)."""
    wave, fsn, n = base["WAVELNTH"], base["FSN"], len(base["FSN"])
    simple = {
        "TELESCOP": "SDO/AIA",
        "WAVEUNIT": "angstrom",
        "IMG_TYPE": "LIGHT",
        "BUNIT": "DN",
        "CTYPE1": "HPLN-TAN",
        "CTYPE2": "HPLT-TAN",
        "CUNIT1": "arcsec",
        "CUNIT2": "arcsec",
    }
    if name in simple:
        return np.full(n, simple[name], dtype=object)
    numbers = {
        "CRVAL1": 0.0,
        "CRVAL2": 0.0,
        "LVL_NUM": 1.0,
        "RSUN_REF": RSUN_REF,
        "DSUN_REF": 149597870691.0,
        "DATAMIN": 0,
        "DATAMAX": 16383,
    }
    if name in numbers:
        return np.full(n, numbers[name])
    if name == "EXPTIME":
        return _table(wave, 0) * (1.0 + 0.0005 * (hash01(fsn, 3) - 0.5))
    if name in ("CDELT1", "CDELT2"):
        return _table(wave, 1)
    if name == "CROTA2":
        return _table(wave, 2)
    if name in ("CRPIX1", "CRPIX2"):
        drift = 0.15 * np.sin(2 * np.pi * get("T_REC") / (365.25 * DAY))
        return 2048.5 + _table(wave, 3 if name == "CRPIX1" else 4) + drift
    if name == "INSTRUME":
        return _table(wave, 5)
    if name == "DATAMEAN":
        return _table(wave, 6) * (1 + 0.05 * (hash01(fsn, 4) - 0.5))
    if name == "QUALITY":
        return quality_values(fsn)
    if name == "T_OBS":  # exposure midpoint, with the shutter's small jitter
        return get("T_REC") + get("EXPTIME") / 2 + 0.5 + np.round(0.1 * hash01(fsn, 5), 2)
    if name == "DATE":
        return np.floor(get("T_REC") / DAY) * DAY + 3 * DAY + 3600.0 + np.floor(hash01(fsn, 6) * 7200)
    if name == "CALVER32":  # aia.lev1 carries CALVER32 (no AIA series has CALVER64)
        return _calver(get, "T_OBS", 0)
    if name == "DATE__OBS":
        return _date_obs(get, get("EXPTIME"))
    if name == "CAMERA":
        return _aia_camera(wave)
    if name == "WAVE_STR":
        return np.asarray([f"{int(w)}_THIN" if w < 1000 else str(int(w)) for w in wave], dtype=object)
    if name == "R_SUN":
        return get("RSUN_OBS") / get("CDELT1")
    if name in EPHEMERIS:
        return _ephemeris(get, name, "T_OBS")
    return None


def hmi_column(name: str, base: dict, get: Callable, sdef: SeriesDef) -> np.ndarray | None:
    """Keyword ``name`` of HMI records."""
    slot, n = base["_slot"], len(base["_slot"])
    magnetic = sdef.segments[0].kind == "magnetogram"
    instrume = "HMI_FRONT2" if sdef.camera == 2 else "HMI_SIDE1"
    simple = {
        "TELESCOP": "SDO/HMI",
        "INSTRUME": instrume,
        "BUNIT": "Gauss" if magnetic else "DN/s",
        "CTYPE1": "HPLN-TAN",
        "CTYPE2": "HPLT-TAN",
        "CUNIT1": "arcsec",
        "CUNIT2": "arcsec",
    }
    if name in simple:
        return np.full(n, simple[name], dtype=object)
    numbers = {
        "CRVAL1": 0.0,
        "CRVAL2": 0.0,
        "WAVELNTH": 6173.0,
        "RSUN_REF": RSUN_REF,
        "DSUN_REF": 149597870691.0,
        "CDELT1": 0.504295,
        "CDELT2": 0.504295,
    }
    if name in numbers:
        return np.full(n, numbers[name], dtype=float)
    if name == "CROTA2":
        return 179.93 + 0.002 * np.sin(2 * np.pi * get("T_REC") / (365.25 * DAY))
    if name in ("CRPIX1", "CRPIX2"):
        return 2048.5 + (1.37 if name == "CRPIX1" else -0.84) + 0.3 * (hash01(slot // 1920, 11 + len(name)) - 0.5)
    if name == "QUALITY":
        assert sdef.camera is not None, "lev1 series have a camera"
        return quality_values(slot * 7 + int(sdef.camera))
    if name == "T_OBS":
        return get("T_REC") - (1.7 if sdef.t_rec_step == 45 else 0.0) + np.round(0.04 * hash01(slot, 12), 2)
    if name == "DATE":
        return np.floor(get("T_REC") / DAY) * DAY + DAY + 7200.0 + np.floor(hash01(slot, 13) * 3600)
    if name == "DATAMEAN":
        return (0.5 if magnetic else 52000.0) * (1 + 0.02 * (hash01(slot, 14) - 0.5))
    if name == "DATAMIN":
        return np.full(n, -2500.0 if magnetic else 0.0)
    if name == "DATAMAX":
        return np.full(n, 2500.0 if magnetic else 68000.0)
    if name == "CALVER64":
        return _calver(get, "T_OBS", 0x400)
    if name == "DATE__OBS":  # HMI has no EXPTIME keyword; the exposure is internal
        return _date_obs(get, hmi_exposure(sdef))
    if name == "cparms_sg000":
        return np.full(n, sdef.segments[0].cparms or "", dtype=object)
    if name.endswith(("_bzero", "_bscale")):
        seg = sdef.segments[0]
        return np.full(n, float((seg.bzero or 0.0) if name.endswith("_bzero") else (seg.bscale or 1.0)))
    if name in EPHEMERIS:
        return _ephemeris(get, name, "T_OBS")
    return None


def hmi_exposure(sdef: SeriesDef) -> float:
    """The emulator's internal HMI exposure (s): not a keyword of the real HMI series."""
    return 0.135 if sdef.t_rec_step == 45 else 0.36


def aia_slotted_column(name: str, base: dict, get: Callable) -> np.ndarray | None:
    """Unlinked keywords of slotted AIA records: ``aia_slot`` copies them from the aia.lev1
    record (``drms_copykeys``, ``lm-jps/proj:lev1_aia/apps/aia_slot.c``)."""
    try:
        return get(f"lev1->{name}")
    except KeyError:
        return None


def noaa_column(name: str, base: dict, get: Callable) -> np.ndarray | None:
    """Keyword ``name`` of NOAA region records (``su_rsb.NOAA_ActiveRegions`` or its public
    copy ``jsoc.noaa_active_regions``: the same values whatever the spelling of the name).
    Latitude and longitudes come from `noaa` (real for its real regions); area, spot count,
    extent and classes are synthetic for every region."""
    from sunpy_jsoc_cutout.testing.sun import noaa  # noqa: PLC0415

    keys = {k.lower(): k for k in base}
    rows = []
    for t_obs, number in zip(base[keys["observationtime"]], base[keys["regionnumber"]], strict=True):
        reg = noaa.region(int(number), float(t_obs))
        assert reg is not None, "the generator lists existing regions only"
        cm = (reg.carr_lon - noaa.l0_deg(float(t_obs)) + 180.0) % 360.0 - 180.0
        rows.append((reg, cm))
    n = len(rows)
    values = {
        "latitudehg": lambda r, cm: round(r.lat),
        "longitudecm": lambda r, cm: round(cm),
        "longitudehg": lambda r, cm: round(r.carr_lon) % 360,
        "area": lambda r, cm: round(r.area),
        "spotcount": lambda r, cm: max(1, int(r.area // 25)),
        "longitudinalextent": lambda r, cm: max(1, int(r.area // 60)),
        "zurichclass": lambda r, cm: ("Hsx", "Cso", "Dai", "Eki", "Fkc")[min(4, int(r.area // 160))],
        "magnetictype": lambda r, cm: ("Alpha", "Beta", "Beta-Gamma", "Beta-Gamma-Delta")[min(3, int(r.area // 200))],
        "swpc_file": lambda r, cm: "",  # not carried by rows copied from su_rsb (missing)
        "swpc_file_mod_time": lambda r, cm: "",
    }
    low = name.lower()
    if low not in values:
        return None
    out = [values[low](r, cm) for r, cm in rows]
    strings = ("zurichclass", "magnetictype", "swpc_file", "swpc_file_mod_time")
    return np.asarray(out, dtype=object if low in strings else np.int64).reshape(n)


def lev1_base(base: dict) -> dict:
    """aia.lev1 base columns of the exposures that slotted AIA records link to."""
    wave, k = base["WAVELNTH"], base["_k"]
    t = np.zeros(k.shape)
    recnum = np.zeros(k.shape, np.int64)
    for w in np.unique(wave):
        period, phase, rank = AIA_CHANNELS[int(w)]
        sel = wave == w
        offset = phase + k[sel] * period
        t[sel] = utc_to_tai(U0_UTC + offset)
        recnum[sel] = 1 + 9 * np.floor_divide(offset, 12.0).astype(np.int64) + rank
    return {"recnum": recnum, "T_REC": t, "FSN": FSN0 + recnum - 1, "WAVELNTH": wave.copy(), "_k": k.copy()}


def column_function(sdef: SeriesDef) -> Callable[[str, dict, Callable], np.ndarray | None]:
    """The column computation of a series' own (non-prime, non-linked) keywords."""
    if sdef.generator == "aia_lev1":
        return aia_lev1_column
    if sdef.generator == "hmi":
        return lambda name, base, get: hmi_column(name, base, get, sdef)
    if sdef.generator == "noaa":
        return noaa_column
    if sdef.generator == "aia_slotted":
        return aia_slotted_column
    return lambda name, base, get: None
