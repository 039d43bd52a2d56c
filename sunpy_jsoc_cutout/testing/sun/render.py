"""Deterministic synthetic Sun images, computed in closed form from a FITS header.

`render` draws what an SDO image described by ``header`` would show: a disk limb-brightened
in the AIA EUV channels and limb-darkened in continuum and the UV (intensity level by
``WAVELNTH`` for AIA), the quiet-Sun network (:mod:`.network`, bright in AIA, mixed-polarity in
magnetograms), active regions at the emulated NOAA regions (:mod:`.arfeatures`: loops and moss,
sunspots, bipoles), a fine surface texture at 2-5 AIA-pixel scales (:mod:`.texture`), all
sized on the Sun and fixed in the Carrington frame, and (AIA) a faint corona decaying with
height above the limb. The geometry is the header's own WCS (``CRPIX``,
``CDELT``, ``CROTA2``/``PCi_j``, ``CRVAL``, TAN projection) and observer (``DSUN_OBS``,
``CRLT_OBS`` and the true Carrington longitude: the internal ``_CRLN_TRUE`` of catalogue
headers, else ``CRLN_OBS`` with JSOC's calibration-bit-28 convention), evaluated in closed form
(:mod:`.sungeometry`), so any header, full disk, reduced size or cutout, gives consistent
pixels. Only the requested pixels are computed; results are cached (LRU, by size).

Kinds: ``"aia"`` (DN), ``"continuum"`` (HMI Ic, DN/s, NaN off the disk), ``"magnetogram"``
(HMI line-of-sight field, gauss, NaN off the disk), ``"spikes"`` (AIA's spike list, a
``(3, n)`` array of pixel address, despiked value and original value).
"""

from __future__ import annotations

import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple, overload

import numpy as np

from astropy.time import Time

from sunpy import log

from .arfeatures import RegionSpec, paint_regions, region_specs, regions_at
from .network import FINEST_WAVELENGTH, NetworkFields, network
from .sungeometry import HeaderGeometryError, ObserverGeometry, SurfaceSample, observer_geometry
from .texture import texture

__all__ = ["KINDS", "HeaderGeometryError", "RegionSpec", "UnknownKind", "aia_level", "clear_cache", "render"]

#: The kinds of image `render` draws.
KINDS = ("aia", "continuum", "magnetogram", "spikes")

# Quiet-Sun disk-centre level of AIA level-1 images (DN, typical exposures).
_AIA_LEVELS = {
    94: 4.0,
    131: 30.0,
    171: 700.0,
    193: 1000.0,
    211: 350.0,
    304: 150.0,
    335: 20.0,
    1600: 250.0,
    1700: 2500.0,
    4500: 9000.0,
}
_UV_LEVELS = (_AIA_LEVELS[1600], _AIA_LEVELS[1700], _AIA_LEVELS[4500])  # no corona above the limb
# Network contrast of each AIA channel (the quiet Sun is 1 - c + c * network / mean) and
# whether it is limb-brightened (optically thin coronal and transition-region lines).
_AIA_LOOKS = {
    94: (0.2, True),
    131: (0.35, True),
    171: (0.25, True),
    193: (0.2, True),
    211: (0.35, True),
    304: (0.65, True),
    335: (0.3, True),
    1600: (0.7, False),
    1700: (0.6, False),
    4500: (0.0, False),
}
_NETWORK_MEAN = 0.25  # mean of network().brightness (at 1024 px)
_NETWORK_FIELD = 120.0  # gauss of bright network in magnetograms
_HMI_IC_LEVEL = 62_000.0  # DN/s at disk centre
_CHUNK_PIXELS = 1 << 16
_CACHE_BYTES = 320 * 1024 * 1024
_KEY_WORDS = (
    "NAXIS1",
    "NAXIS2",
    "CRPIX1",
    "CRPIX2",
    "CDELT1",
    "CDELT2",
    "CROTA2",
    "CRVAL1",
    "CRVAL2",
    "PC1_1",
    "PC1_2",
    "PC2_1",
    "PC2_2",
    "DSUN_OBS",
    "RSUN_REF",
    "CRLN_OBS",
    "CRLT_OBS",
    "CALVER64",
    "CALVER32",
    "_CRLN_TRUE",
    "WAVELNTH",
    "T_OBS",
)
_DRMS_EPOCH = Time("1977-01-01T00:00:00", scale="tai")


class UnknownKind(ValueError):
    """`render` was asked for a kind of image it does not know."""


def aia_level(wavelength: float) -> float:
    """Quiet-Sun disk-centre level (DN) of an AIA channel (1000 for an unknown one)."""
    try:
        return _AIA_LEVELS.get(round(float(wavelength)), 1000.0)
    except (TypeError, ValueError):
        return 1000.0


def _aia_look(wavelength: float) -> tuple[float, bool]:
    """Network contrast and limb brightening of an AIA channel (171's for an unknown one)."""
    try:
        return _AIA_LOOKS.get(round(float(wavelength)), _AIA_LOOKS[171])
    except (TypeError, ValueError):
        return _AIA_LOOKS[171]


@overload
def _limb_darkening(mu: float, coeff: float) -> float: ...
@overload
def _limb_darkening(mu: np.ndarray, coeff: float) -> np.ndarray: ...
def _limb_darkening(mu: np.ndarray | float, coeff: float) -> np.ndarray | float:
    return 1.0 - coeff * (1.0 - mu)


def _limb_brightening(mu: np.ndarray) -> np.ndarray:
    """Optically thin EUV emission: brighter towards the limb (about twice disk centre at the
    limb itself), as the line of sight crosses more of the emitting layer."""
    norm = np.float32(1.0 / (0.75 + 0.25 / np.sqrt(1.04)))
    out = np.asarray(mu, dtype=np.float32) ** 2
    out += np.float32(0.04)
    np.sqrt(out, out=out)
    np.divide(np.float32(0.25), out, out=out)
    out += np.float32(0.75)
    out *= norm
    return out


class _Surface(NamedTuple):
    """The surface fields of a block (zero off the disk)."""

    texture: np.ndarray
    network: np.ndarray
    polarity: np.ndarray


def _lattice_step(geom: ObserverGeometry) -> int:
    """Every second pixel suffices for the network once its finest waves span 12 pixels or more."""
    return 2 if FINEST_WAVELENGTH >= 12.0 * geom.pixel_size else 1


def _network(geom: ObserverGeometry, rows: slice, cols: slice, sample) -> NetworkFields:
    """The network of the pixels ``[rows, cols]``; at high resolution evaluated on the lattice of
    even global pixel indices and interpolated bilinearly, which depends only on the global pixel
    position (a block equals the same slice of a full image exactly)."""
    step = _lattice_step(geom)
    if step == 1:
        return network(sample.xyz, sample.mu, geom.pixel_size)
    r0, c0 = rows.start - rows.start % step, cols.start - cols.start % step
    r1, c1 = rows.stop + step, cols.stop + step  # up to the node beyond the last pixel
    nodes = geom.sample(slice(r0, r1, step), slice(c0, c1, step))
    net = network(nodes.xyz, nodes.mu, geom.pixel_size)
    fr = ((np.arange(rows.start, rows.stop) - r0) / step).astype(np.float32)[:, None]
    fc = ((np.arange(cols.start, cols.stop) - c0) / step).astype(np.float32)
    ir, ic = fr.astype(np.intp), fc.astype(np.intp)
    fr -= ir
    fc -= ic

    def interpolate(values: np.ndarray) -> np.ndarray:
        top = values[ir, ic] * (np.float32(1.0) - fc) + values[ir, ic + 1] * fc
        bottom = values[ir + 1, ic] * (np.float32(1.0) - fc) + values[ir + 1, ic + 1] * fc
        return top * (np.float32(1.0) - fr) + bottom * fr

    return NetworkFields(interpolate(net.brightness), interpolate(net.polarity))


def _surface(sample, geom: ObserverGeometry, rows: slice, cols: slice, with_network: bool = True) -> _Surface:
    """Texture and network over the columns that hold any on-disk pixel of the block."""
    out = [np.zeros(sample.mu.shape, dtype=np.float32) for _ in range(3)]
    on = np.flatnonzero(sample.on_disk.any(axis=0))
    if on.size:
        c0, c1 = on[0], on[-1] + 1
        xyz = tuple(c[:, c0:c1] for c in sample.xyz)
        mu = sample.mu[:, c0:c1]
        out[0][:, c0:c1] = texture(xyz, mu, geom.pixel_size)
        if with_network:
            part = SurfaceSample(sample.on_disk[:, c0:c1], mu, sample.rho[:, c0:c1], xyz, sample.xi, sample.eta)
            net = _network(geom, rows, slice(cols.start + c0, cols.start + c1), part)
            out[1][:, c0:c1] = net.brightness
            out[2][:, c0:c1] = net.polarity
    return _Surface(*out)


def _aia_block(header: Mapping, geom: ObserverGeometry, rows: slice, cols: slice, regions) -> np.ndarray:
    level = aia_level(header.get("WAVELNTH", 171))
    contrast, brightening = _aia_look(header.get("WAVELNTH", 171))
    sample = geom.sample(rows, cols)
    surface = _surface(sample, geom, rows, cols)
    img = _limb_brightening(sample.mu) if brightening else _limb_darkening(sample.mu, 0.45).astype(np.float32)
    img *= 1.0 + 0.6 * surface.texture
    # the network blurs out towards the limb, where lines of sight cross many cells
    network = surface.network * np.float32(1.0 / _NETWORK_MEAN) - np.float32(1.0)
    fade = np.clip(sample.mu.astype(np.float32) * np.float32(1.0 / 0.6), 0.0, 1.0)
    fade *= fade
    network *= fade
    network *= np.float32(contrast)
    network += np.float32(1.0)
    img *= network
    corona = sample.rho.astype(np.float32)
    corona -= np.float32(1.0)
    corona *= np.float32(-1.0 / 0.08)  # scale height 0.08 solar radii
    np.minimum(corona, np.float32(0.0), out=corona)
    np.exp(corona, out=corona)
    corona *= np.float32(0.02 if level in _UV_LEVELS else 0.45)
    np.copyto(img, corona, where=~sample.on_disk)
    out = img.astype(np.float64)
    paint_regions(out, geom, regions, "aia", rows, cols)
    out *= level
    return out


def _continuum_block(header: Mapping, geom: ObserverGeometry, rows: slice, cols: slice, regions) -> np.ndarray:
    sample = geom.sample(rows, cols)
    img = _limb_darkening(sample.mu, 0.6) * (
        1.0 + 0.15 * _surface(sample, geom, rows, cols, with_network=False).texture
    )
    paint_regions(img, geom, regions, "continuum", rows, cols, centre_factor=lambda mu: _limb_darkening(mu, 0.6))
    np.maximum(img, 0.0, out=img)
    img *= _HMI_IC_LEVEL
    img[~sample.on_disk] = np.nan
    return img


def _magnetogram_block(header: Mapping, geom: ObserverGeometry, rows: slice, cols: slice, regions) -> np.ndarray:
    sample = geom.sample(rows, cols)
    surface = _surface(sample, geom, rows, cols)
    img = 40.0 * surface.texture.astype(np.float64)
    img += (_NETWORK_FIELD * sample.mu) * surface.network * surface.polarity
    paint_regions(img, geom, regions, "magnetogram", rows, cols, centre_factor=lambda mu: mu)
    img[~sample.on_disk] = np.nan
    return img


_BLOCK_PAINTERS: dict[str, Callable[..., np.ndarray]] = {
    "aia": _aia_block,
    "continuum": _continuum_block,
    "magnetogram": _magnetogram_block,
}


class _ByteLRU:
    """Thread-safe LRU cache of read-only arrays, bounded by total bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key) -> np.ndarray | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value: np.ndarray) -> None:
        if value.nbytes > self.max_bytes:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while sum(v.nbytes for v in self._items.values()) > self.max_bytes:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_CACHE = _ByteLRU(_CACHE_BYTES)


def clear_cache() -> None:
    """Forget all cached renders."""
    _CACHE.clear()


def _parse_time(value: str) -> float:
    """Header time string to float seconds TAI since 1977.01.01_00:00:00_TAI."""
    try:
        from sunpy_jsoc_cutout.testing.common.timeutil import parse_drms_time  # noqa: PLC0415 (written in parallel; optional here)
    except ImportError:
        pass
    else:
        return float(parse_drms_time(value))
    text, scale = str(value).strip(), "utc"
    for suffix, zone in (("_TAI", "tai"), ("_UTC", "utc"), ("_UT", "utc"), ("Z", "utc")):
        if text.endswith(suffix):
            text, scale = text[: -len(suffix)], zone
            break
    if "_" in text:
        date, _, clock = text.partition("_")
        text = date.replace(".", "-") + "T" + clock
    return float((Time(text, scale=scale).tai - _DRMS_EPOCH).to_value("s"))


def _default_regions(header: Mapping) -> tuple[RegionSpec, ...]:
    for key in ("T_OBS", "DATE-OBS", "T_REC"):
        value = header.get(key)
        if isinstance(value, str) and value.strip() and "MISSING" not in value.upper():
            return regions_at(_parse_time(value))
    return ()


def _spikes(header: Mapping) -> np.ndarray:
    """AIA's spike list: rows are 1-D pixel address, despiked value and original value."""
    seed = zlib.crc32(f"{header.get('T_OBS')}|{header.get('WAVELNTH')}|{header.get('FSN')}".encode())
    rng = np.random.default_rng(seed)
    count = 150 + seed % 300
    npix = int(header.get("NAXIS1", 4096) or 4096) * int(header.get("NAXIS2", 4096) or 4096)
    level = aia_level(header.get("WAVELNTH", 171))
    address = np.sort(rng.choice(npix, size=count, replace=False))
    despiked = np.round(level * rng.uniform(0.3, 1.5, count))
    original = despiked + np.round(rng.uniform(200.0, 4000.0, count))
    return np.stack([address, despiked, original]).astype(np.float64)


def _region_slices(shape: tuple[int, int], region) -> tuple[slice, slice]:
    if region is None:
        return slice(0, shape[0]), slice(0, shape[1])
    out = []
    for sl, n in zip(region, shape, strict=True):
        start, stop, step = sl.indices(n)
        if step != 1 or stop <= start:
            raise ValueError(f"region slices must be non-empty with step 1, got {sl}")
        out.append(slice(start, stop))
    return out[0], out[1]


def _draw(header: Mapping, kind: str, rows: slice, cols: slice, regions: tuple[RegionSpec, ...]) -> np.ndarray:
    geom = observer_geometry(header)
    painter = _BLOCK_PAINTERS[kind]
    width = cols.stop - cols.start
    out = np.empty((rows.stop - rows.start, width), dtype=np.float64)
    step = max(1, _CHUNK_PIXELS // width)
    for r0 in range(rows.start, rows.stop, step):
        block = slice(r0, min(r0 + step, rows.stop))
        out[block.start - rows.start : block.stop - rows.start] = painter(header, geom, block, cols, regions)
    return out


def render(
    header: Mapping,
    kind: str,
    *,
    shape: tuple[int, int] | None = None,
    region: tuple[slice, slice] | None = None,
    active_regions: Iterable[object] | None = None,
) -> np.ndarray:
    """Render the synthetic Sun an image with this header would show.

    Parameters
    ----------
    header : Mapping
        FITS-style keywords (see :func:`.sungeometry.observer_geometry`; ``WAVELNTH`` sets the
        AIA level, ``T_OBS`` the time of the active regions).
    kind : str
        One of `KINDS`.
    shape : tuple of int, optional
        ``(ny, nx)`` of the full image; default ``(NAXIS2, NAXIS1)``.
    region : tuple of slice, optional
        ``(rows, cols)`` 0-based slices; only those pixels are computed and returned. The
        result equals the same slice of the full image exactly.
    active_regions : iterable, optional
        Regions to draw (objects with ``lat``, ``carr_lon`` and optionally ``sigma_deg``,
        ``strength``; see `RegionSpec`). Default: the emulator's NOAA regions at ``T_OBS``.

    Returns
    -------
    numpy.ndarray
        float64 physical values, read-only (it may be shared with the cache). ``"spikes"``
        ignores ``shape`` and ``region``.

    Raises
    ------
    UnknownKind
        For a kind not in `KINDS`.
    HeaderGeometryError
        If the header lacks WCS or observer keywords.
    """
    if kind not in KINDS:
        raise UnknownKind(f"unknown image kind {kind!r}; expected one of {KINDS}")
    hkey = tuple((k, header.get(k)) for k in _KEY_WORDS)
    if kind == "spikes":
        spikes_key = (hkey, kind, header.get("FSN"))
        data = _CACHE.get(spikes_key)
        if data is None:
            data = _spikes(header)
            data.setflags(write=False)
            _CACHE.put(spikes_key, data)
        return data
    if shape is None:
        shape = (int(header.get("NAXIS2", 0) or 0), int(header.get("NAXIS1", 0) or 0))
    shape = (int(shape[0]), int(shape[1]))
    if min(shape) <= 0:
        raise HeaderGeometryError("image shape unknown: give shape= or NAXIS1/NAXIS2")
    rows, cols = _region_slices(shape, region)
    regions = region_specs(active_regions) if active_regions is not None else _default_regions(header)
    base = (hkey, kind, shape, regions)
    key = (*base, rows.start, rows.stop, cols.start, cols.stop)
    data = _CACHE.get(key)
    if data is None:
        full = _CACHE.get((*base, 0, shape[0], 0, shape[1]))
        if full is not None:
            return full[rows, cols]
        log.debug("Rendering %s pixels [%d:%d, %d:%d] of %s", kind, rows.start, rows.stop, cols.start, cols.stop, shape)
        data = _draw(header, kind, rows, cols, regions)
        data.setflags(write=False)
        _CACHE.put(key, data)
    return data
