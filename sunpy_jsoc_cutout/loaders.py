"""
Open fetched cutouts as time-ordered `~sunpy.map.MapSequence` objects, one per series and wavelength.

``Fido.fetch`` returns a flat list of files: several wavelengths, maybe AIA and HMI, in the order
they arrived. `load` sorts them into groups and each group into time order::

    files = Fido.fetch(result, path="~/data/{wavelength}/{file}")
    sequences = sunpy_jsoc_cutout.load(files)
    aia171 = sequences["aia.lev1_euv_12s", 171]  # a MapSequence, earliest frame first

`to_ndcube` (or ``load(..., as_ndcube=True)``) turns a group into an `ndcube.NDCube` with a time
axis; it needs the optional ``ndcube`` package (``pip install "sunpy-jsoc-cutout[ndcube]"``).

A file's group is read from the file itself:

* the series is the one in its ``SOURCE`` keyword, which ``im_patch`` sets to the record it cut
  (``drms_setkey_string(outRec, "SOURCE", inQuery)``, lm-jps/proj ``util/apps/im_patch.c``
  L1165-1167, where the output series has that keyword), else the series its file name starts
  with (JSOC's default file names and the client's templates begin with ``{seriesname}``), else
  its telescope (``TELESCOP``, e.g. ``SDO/AIA``) when neither names a series;
* the wavelength is the map's (``WAVELNTH`` in ``WAVEUNIT``, Å for AIA; 6173 Å for HMI).
"""

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

import astropy.units as u
from astropy.io import fits

from sunpy.util.exceptions import warn_user

from ._plan.series_rules import rules_for
from .exceptions import CutoutQueryError, LoadError

if TYPE_CHECKING:
    import ndcube

    import sunpy.map

__all__ = ["GroupKey", "load", "to_ndcube"]

#: What ``load`` takes: a path (file or folder), or an iterable of paths such as the
#: ``parfive.Results`` of ``Fido.fetch``.
FilesLike = str | os.PathLike | Iterable[str | os.PathLike]

#: File name endings taken from a folder (JSOC's FITS exports end in ``.fits``).
FITS_SUFFIXES = (".fits", ".fts", ".fit", ".fits.gz")

#: Keywords without which a file is no map: a WCS and an observation time.
_MAP_KEYWORDS = ("CTYPE1", "CTYPE2")
_TIME_KEYWORDS = ("DATE-OBS", "T_OBS", "DATE_OBS")


class GroupKey(NamedTuple):
    """
    The group of a cutout: its series and wavelength.

    A plain tuple compares equal, so ``sequences["aia.lev1", 171]`` finds
    ``GroupKey("aia.lev1", 171.0)``.
    """

    series: str
    """JSOC series name (e.g. ``"aia.lev1_euv_12s"``, ``"hmi.M_720s"``), or the telescope
    (``TELESCOP``, e.g. ``"SDO/AIA"``) when neither the header nor the file name names one."""
    wavelength: float | None
    """Wavelength in Å (``None`` for a map without one)."""


def _paths(files: object) -> list[Path]:
    """The file paths of ``files``: a path (file or folder) or an iterable of paths."""
    if isinstance(files, str | os.PathLike):
        items: Iterable = [files]
    elif isinstance(files, Iterable):
        items = files
    else:
        raise LoadError(f"load takes what Fido.fetch returns, a list of paths or a folder; got {type(files).__name__}.")
    paths: list[Path] = []
    for item in items:
        if not isinstance(item, str | os.PathLike):
            raise LoadError(f"load takes file paths; got {item!r} ({type(item).__name__}).")
        path = Path(item).expanduser()
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(FITS_SUFFIXES))
            if not found:
                raise LoadError(f"The folder {path} holds no FITS file (*.fits); nothing to load.")
            paths += found
        elif path.is_file():
            paths.append(path)
        else:
            raise LoadError(f"{path} does not exist.")
    return list(dict.fromkeys(paths))


def _header(path: Path) -> fits.Header:
    """The header of the one image in ``path``, checked to be a map's."""
    try:
        with fits.open(path) as hdus:
            images = [h for h in hdus if h.is_image and h.header.get("NAXIS", 0) >= 2]
            header = images[0].header.copy() if len(images) == 1 else None
            count = len(images)
    except OSError as err:
        raise LoadError(f"{path} is not a FITS file ({err}); load opens the FITS cutouts of a fetch.") from err
    if header is None:
        raise LoadError(f"{path} holds {count} images; load opens files of one cutout each, as JSOC exports them.")
    missing = [k for k in _MAP_KEYWORDS if k not in header]
    if missing or not any(k in header for k in _TIME_KEYWORDS):
        raise LoadError(
            f"{path} is a FITS image without the keywords of a map (no {', '.join(missing) or 'observation time'}): "
            "probably an 'as-is' export, whose files carry no record keywords. Export with the protocol 'fits' "
            "(the default) to get files that open as maps."
        )
    return header


def _known_series(name: str) -> str | None:
    try:
        return rules_for(name).name
    except CutoutQueryError:
        return None


def _series_of(header: fits.Header, path: Path) -> str:
    """The series of a cutout: its ``SOURCE`` keyword's, its file name's, else its telescope."""
    source = str(header.get("SOURCE", "")).split("[")[0].strip()
    if source:
        return _known_series(source) or source
    parts = path.name.split(".")
    if len(parts) > 2:
        known = _known_series(".".join(parts[:2]))
        if known:
            return known
    return str(header.get("TELESCOP", "")).strip() or "unknown"


def _group_key(smap: "sunpy.map.GenericMap", header: fits.Header, path: Path) -> GroupKey:
    wavelength = smap.wavelength
    value = None if wavelength is None else float(wavelength.to_value(u.AA, equivalencies=u.spectral()))
    return GroupKey(_series_of(header, path), value)


def _open(path: Path) -> "sunpy.map.GenericMap":
    import sunpy.map  # noqa: PLC0415  (sunpy.map imports matplotlib: only when files are opened)

    try:
        smap = sunpy.map.Map(str(path))
    except (OSError, ValueError, TypeError) as err:
        raise LoadError(f"{path} does not open as a sunpy map: {err}") from err
    if isinstance(smap, list):
        raise LoadError(f"{path} holds {len(smap)} maps; load opens files of one cutout each.")
    return smap


def _check_shapes(key: GroupKey, maps: list, paths: list[Path]) -> None:
    shapes: dict[tuple[int, ...], list[Path]] = {}
    for smap, path in zip(maps, paths, strict=True):
        shapes.setdefault(tuple(smap.data.shape), []).append(path)
    if len(shapes) > 1:
        listed = "; ".join(f"{len(p)} of shape {s} (e.g. {p[0].name})" for s, p in shapes.items())
        raise LoadError(
            f"The {key.series} {key.wavelength:g} Å cutouts do not all have one shape: {listed}. A time "
            "sequence needs one box: load the files of each box separately, or give the box size in pixels "
            "(a.jsoc_cutout.Box(..., 40 * u.pix)) so that every cutout of an export has the same shape."
            if key.wavelength is not None
            else f"The {key.series} cutouts do not all have one shape: {listed}. Load the files of each box separately."
        )


def _reference_time(smap):
    return smap.reference_date or smap.date


@overload
def load(files: FilesLike, *, as_ndcube: Literal[False] = False) -> "dict[GroupKey, sunpy.map.MapSequence]": ...


@overload
def load(files: FilesLike, *, as_ndcube: Literal[True]) -> "dict[GroupKey, ndcube.NDCube]": ...


def load(files: FilesLike, *, as_ndcube: bool = False) -> "dict[GroupKey, Any]":
    """
    Open cutouts as time-ordered map sequences, one per series and wavelength.

    Parameters
    ----------
    files : `parfive.Results`, path-like, or iterable of path-like
        What ``Fido.fetch`` returned, a list of FITS files, or a folder (searched with its
        subfolders for ``*.fits``, so the folder of a fetch with ``path=".../{wavelength}/{file}"``
        works). A failed download listed in ``files.errors`` is skipped with a warning.
    as_ndcube : bool, optional
        Return an `ndcube.NDCube` per group instead (see `to_ndcube`; needs ``ndcube``).

    Returns
    -------
    dict of `GroupKey` to `~sunpy.map.MapSequence` (or `ndcube.NDCube`)
        Sorted by series and wavelength. Each sequence holds its maps in order of observation
        time (``reference_date``: AIA's ``T_OBS``, mid-exposure; else ``DATE-OBS``), whatever
        order the files came in. Index with a plain tuple, ``sequences["aia.lev1", 171]``.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.LoadError
        If there is no file, a file does not exist or is not a FITS map (e.g. an ``as-is``
        export, a JPEG or a tar file), or the cutouts of one group differ in shape.
    ImportError
        If ``as_ndcube`` is true and ``ndcube`` is not installed.
    """
    failed = list(getattr(files, "errors", None) or [])
    if failed:
        warn_user(
            f"{len(failed)} file(s) of this fetch failed to download and are not loaded; "
            "Fido.fetch(files) downloads them again."
        )
    paths = _paths(files)
    if not paths:
        raise LoadError(
            "No files to load." + (" Every download of this fetch failed (see its .errors)." if failed else "")
        )
    if as_ndcube:
        _import_ndcube()
    groups: dict[GroupKey, list[tuple[Any, Path]]] = {}
    for path in paths:
        header = _header(path)
        smap = _open(path)
        groups.setdefault(_group_key(smap, header, path), []).append((smap, path))
    import sunpy.map  # noqa: PLC0415

    result: dict[GroupKey, Any] = {}
    for key in sorted(groups, key=lambda k: (k.series, k.wavelength if k.wavelength is not None else -1.0)):
        members = sorted(groups[key], key=lambda item: (_reference_time(item[0]), str(item[1])))
        maps, group_paths = [m for m, _ in members], [p for _, p in members]
        _check_shapes(key, maps, group_paths)
        sequence = sunpy.map.MapSequence(maps, sortby=None)
        result[key] = to_ndcube(sequence) if as_ndcube else sequence
    return result


def _import_ndcube():
    try:
        import ndcube  # noqa: PLC0415
    except ImportError as err:
        raise ImportError(
            "Loading cutouts as NDCube needs the optional package ndcube: "
            'pip install "sunpy-jsoc-cutout[ndcube]" (or pip install ndcube).'
        ) from err
    return ndcube


def to_ndcube(sequence: "sunpy.map.MapSequence") -> "ndcube.NDCube":
    """
    Stack a time-ordered map sequence into a 3-D `ndcube.NDCube` (time, y, x).

    The cube's WCS joins the first map's spatial WCS with a time axis that is a table of every
    map's ``reference_date`` (`ndcube.ExtraCoords`), so ``cube.axis_world_coords("time")`` gives
    the frames' times and slicing a frame keeps its spatial WCS. The spatial axes are the first
    frame's: with ``a.jsoc_cutout.Tracking(True)`` the box follows the rotating Sun, so a pixel
    of a later frame is a little west of where the first frame's WCS places it (the maps of
    the sequence keep each frame's own WCS). Every map's header is kept, in order, in
    ``cube.meta["headers"]``.

    Parameters
    ----------
    sequence : `~sunpy.map.MapSequence`
        Maps of one shape, in time order (a group from `load`).

    Returns
    -------
    `ndcube.NDCube`

    Raises
    ------
    ImportError
        If ``ndcube`` (the ``[ndcube]`` extra) is not installed.
    sunpy_jsoc_cutout.exceptions.LoadError
        If the maps differ in shape.
    """
    nd = _import_ndcube()
    import numpy as np  # noqa: PLC0415
    from ndcube.wcs.wrappers import CompoundLowLevelWCS  # noqa: PLC0415

    from astropy.time import Time  # noqa: PLC0415
    from astropy.wcs.wcsapi import HighLevelWCSWrapper  # noqa: PLC0415

    maps = list(sequence.maps)
    if not maps:
        raise LoadError("The map sequence is empty; there is nothing to stack.")
    if len({m.data.shape for m in maps}) > 1:
        raise LoadError(
            "The maps differ in shape, so they do not stack into a cube: "
            f"{sorted({m.data.shape for m in maps})}. Load the files of each box separately."
        )
    times = Time([_reference_time(m) for m in maps])
    time_axis = nd.ExtraCoords()
    time_axis.add("time", 0, times, physical_types="time")
    # Pixel axes in WCS order (x, y, then time) are the array axes (time, y, x) reversed.
    wcs = CompoundLowLevelWCS(maps[0].wcs.low_level_wcs, time_axis.wcs.low_level_wcs)
    return nd.NDCube(
        np.stack([m.data for m in maps]),
        wcs=HighLevelWCSWrapper(wcs),
        unit=maps[0].unit,
        meta={"headers": [dict(m.meta) for m in maps]},
    )
