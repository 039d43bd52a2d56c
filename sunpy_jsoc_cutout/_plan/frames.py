"""
Which records an export will turn into files, and how big they will be (pure, vectorised).

* `select_lev1_frames` replays im_patch's nearest-good-frame selection for ``aia.lev1``/``hmi.lev1``
  with a cadence (``get_input_recset`` in ``lm-jps/proj:util/apps/im_patch.c``): the slot grid starts
  at the first given record's ``T_REC``, ``nslots = int((t_last - t_first + cadence/2) / cadence)``,
  and each slot keeps the closest record with ``QUALITY >= 0`` within half a cadence (ties go to
  the later record). im_patch gets the record set with jsoc_fetch's ``[? drms.image_exists(quality) ?]``
  filter, so callers pass only records with ``QUALITY >= 0`` (the grid starts at the first good one).
* `skip_reasons` flags what im_patch will skip: ``QUALITY < 0``, no image, and a box wholly off the
  image (the tracked box centre is projected per record with the record's own keywords, as
  im_patch's ``sphere2img`` does).
* `cutout_pixels` and `estimate_bytes` size one float32 cutout file per record.
"""

import numpy as np

from sunpy_jsoc_cutout.exceptions import CutoutQueryError
from .coords import im_patch_crln

__all__ = [
    "HEADER_BYTES",
    "SKIP_BOX_OFF",
    "SKIP_NO_IMAGE",
    "SKIP_QUALITY",
    "SKIP_REASONS",
    "box_pixels",
    "cutout_pixels",
    "estimate_bytes",
    "map_pixels",
    "select_lev1_frames",
    "skip_reasons",
    "tracked_centre",
]

#: Why im_patch gives no file for a record: the values of the search results' ``Skip`` column,
#: which the job report (``client.last_report``) counts. The only definition of these texts.
SKIP_QUALITY = "QUALITY < 0"
SKIP_NO_IMAGE = "no image"
SKIP_BOX_OFF = "box off the image"
SKIP_REASONS = (SKIP_QUALITY, SKIP_NO_IMAGE, SKIP_BOX_OFF)

#: FITS header and padding of one cutout file (a full AIA header is about 6-8 FITS blocks).
HEADER_BYTES = 8 * 2880


def select_lev1_frames(times: np.ndarray, quality: np.ndarray, cadence: float) -> np.ndarray:
    """
    Indices of the records im_patch keeps for ``cadence`` (records in ``T_REC`` order).

    Parameters
    ----------
    times : numpy.ndarray
        ``T_REC`` of each record in seconds (any zero point).
    quality : numpy.ndarray
        ``QUALITY`` as signed 32-bit integers.
    cadence : float
        The cadence in seconds.

    Returns
    -------
    numpy.ndarray
        Sorted indices, at most one per cadence slot.
    """
    times = np.asarray(times, dtype=float)
    quality = np.asarray(quality)
    if not len(times):
        return np.array([], dtype=int)
    t_start, half = times[0], cadence / 2.0
    nslots = int((times[-1] - t_start + half) / cadence)
    chosen = np.full(max(nslots, 0), -1, dtype=int)
    islot, t_want, t_diff = 0, t_start, 1.0e9
    for irec, t_now in enumerate(times):
        this_diff = abs(t_now - t_want)
        if quality[irec] < 0 or t_now <= t_want - half:
            continue
        while t_now > t_want + half:
            islot += 1
            if islot >= nslots:
                break
            t_want = t_start + cadence * islot
            this_diff = abs(t_now - t_want)
            t_diff = 1.0e8
        if islot >= nslots:
            break
        if this_diff <= t_diff:
            chosen[islot] = irec
        t_diff = abs(t_now - t_want)
    return chosen[chosen >= 0]


def box_pixels(boxunits: str, width: float, cdelt: np.ndarray, rsun_arcsec: np.ndarray | float = 960.0) -> np.ndarray:
    """
    im_patch's box size in pixels along one axis for each record's ``CDELT1``.

    arcsec: ``int(1 + width/CDELT1)``; pixels: ``round(width)``. Degree boxes are never sent
    (`~sunpy_jsoc_cutout._plan.boxgeometry.sent_location` turns them into arcsec boxes), so they are
    refused here rather than sized differently from what is sent. ``rsun_arcsec`` is not needed
    for the two units that are sent.
    """
    cdelt = np.asarray(cdelt, dtype=float)
    if boxunits == "pixels":
        return np.full(cdelt.shape, round(width))
    if boxunits != "arcsec":
        msg = f"im_patch is sent boxunits=pixels or arcsec only; got {boxunits!r}."
        raise CutoutQueryError(msg)
    return (1.0 + width / cdelt).astype(int)


def cutout_pixels(location, cdelt: np.ndarray, rsun_arcsec: np.ndarray | float, rebin: float | None) -> np.ndarray:
    """Pixels of each record's cutout (after rebinning by ``rebin`` when given)."""
    nx = box_pixels(location.boxunits, location.width, cdelt, rsun_arcsec)
    ny = box_pixels(location.boxunits, location.height, cdelt, rsun_arcsec)
    pixels = nx.astype(float) * ny
    if rebin:
        pixels = np.floor(nx * rebin) * np.floor(ny * rebin)
    return pixels


def map_pixels(cols: int, rows: int, rebin: float | None, count: int) -> np.ndarray:
    """Pixels of each of ``count`` maps of ``cols`` x ``rows`` (after rebinning by ``rebin`` when given)."""
    if rebin:
        cols, rows = int(np.floor(cols * rebin)), int(np.floor(rows * rebin))
    return np.full(count, float(cols) * rows)


def estimate_bytes(pixels: np.ndarray, bytes_per_pixel: int = 4) -> np.ndarray:
    """Size of each float32 cutout file: data padded to FITS blocks, plus the header."""
    data = np.ceil(np.asarray(pixels) * bytes_per_pixel / 2880.0) * 2880
    return (data + HEADER_BYTES).astype(np.int64)


def tracked_centre(carrington: tuple[float, float], kw: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0-based pixel of a Carrington point in each record (im_patch's ``sphere2img``), and far-side flags."""
    lon, lat = np.deg2rad(carrington[0]), np.deg2rad(carrington[1])
    crln = np.asarray(kw["CRLN_OBS"], dtype=float)
    lonc = np.deg2rad(im_patch_crln(crln, kw.get("CALVER", np.full(crln.shape, -1))))
    latc = np.deg2rad(np.asarray(kw["CRLT_OBS"], dtype=float))
    cdelt = np.asarray(kw["CDELT1"], dtype=float)
    asd = np.arcsin(np.asarray(kw.get("RSUN_REF", 6.96e8), dtype=float) / np.asarray(kw["DSUN_OBS"], dtype=float))
    rsun = np.rad2deg(asd) * 3600.0 / cdelt
    cos_cang = np.sin(lat) * np.sin(latc) + np.cos(latc) * np.cos(lat) * np.cos(lon - lonc)
    r = rsun * np.cos(asd) / (1.0 - cos_cang * np.sin(asd))
    xr = r * np.cos(lat) * np.sin(lon - lonc)
    yr = r * (np.sin(lat) * np.cos(latc) - np.sin(latc) * np.cos(lat) * np.cos(lon - lonc))
    pa = -np.deg2rad(np.asarray(kw.get("CROTA2", 0.0), dtype=float))
    x = xr * np.cos(pa) - yr * np.sin(pa) + np.asarray(kw["CRPIX1"], dtype=float) - 1
    y = xr * np.sin(pa) + yr * np.cos(pa) + np.asarray(kw["CRPIX2"], dtype=float) - 1
    return x, y, cos_cang < 0


def skip_reasons(
    quality: np.ndarray,
    has_image: np.ndarray,
    *,
    centre: tuple[np.ndarray, np.ndarray] | None = None,
    size: tuple[np.ndarray, np.ndarray] | None = None,
    shape: tuple[int, int] = (4096, 4096),
) -> np.ndarray:
    """
    Why each record will give no file (one of `SKIP_REASONS`, ``""`` when it will).

    Parameters
    ----------
    quality, has_image : numpy.ndarray
        Signed ``QUALITY`` and whether the record has an image.
    centre : tuple of numpy.ndarray, optional
        0-based box centre pixel ``(x, y)`` in each record.
    size : tuple of numpy.ndarray, optional
        Box size in pixels ``(nx, ny)`` in each record.
    shape : tuple of int
        Image shape ``(ny, nx)``.
    """
    quality = np.asarray(quality)
    reasons = np.full(quality.shape, "", dtype=object)
    if centre is not None and size is not None:
        x, y = (np.broadcast_to(np.asarray(c, dtype=float), quality.shape) for c in centre)
        nx, ny = (np.broadcast_to(np.asarray(s, dtype=float), quality.shape) for s in size)
        x1, y1 = np.round(x - nx / 2.0), np.round(y - ny / 2.0)
        off = (x1 + nx - 1 < 0) | (x1 > shape[1] - 1) | (y1 + ny - 1 < 0) | (y1 > shape[0] - 1)
        reasons[off] = SKIP_BOX_OFF
    reasons[~np.asarray(has_image, dtype=bool)] = SKIP_NO_IMAGE
    reasons[quality < 0] = SKIP_QUALITY
    return reasons
