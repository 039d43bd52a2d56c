"""The ``Maproj`` processing step, as JSOC's ``maproj`` (``lm-jps/proj:util/apps/export_as_maproj.c``).

Line numbers refer to ``export_as_maproj.c`` at ``lm-jps/proj`` commit ``0cf0b90``. The export
page (``exportdata.d/processing.js`` ``MaprojCheck``, L1398-1541) sends
``Maproj,map=<m>[,grid=<deg>],clon=<deg>,clat=<deg>,scale=<deg/px>,cols=<n>,rows=<n>[,A=1]``.

Arguments (``module_args``, L102-131):

``map`` (``orthographic``)
    ``carree``, ``Cassini``, ``Mercator``, ``cyleqa``, ``sineqa``, ``gnomonic``, ``Postel``,
    ``stereographic``, ``orthographic``, ``Lambert`` (:mod:`.maproj_geometry`), matched exactly.
``clon``, ``clat`` (0)
    Carrington longitude and latitude of the map centre, degrees; the map stays there in every
    image (tracked at the Carrington rate).
``scale`` (required)
    Degrees per pixel at the map centre; missing or 0 fails: "auto scaling ... not implemented".
``cols``, ``rows`` (0)
    Map size; one of them 0 takes the other, both 0 fails.
``grid`` (none)
    Grid spacing in degrees: pixels within ``0.01 * grid`` of a grid line become ``-Inf`` where
    there is data, ``+Inf`` where there is none (L870-888, L1446-1452).
``interp`` (``cubiconv``), ``map_pa`` (0), ``A`` (all segments)
    Not sent by the page; honoured. ``c`` and ``s`` are declared but unused by the program.

Each image's disk centre is ``CRLT_OBS`` and ``CRLN_OBS`` (less 0.0818941 deg unless CALVER bit 28
says it is corrected, ``get_new_CRLN_OBS`` L1077-1107), Sun centre ``CRPIX1/2``, the radius
``R_SUN`` pixels, else ``RSUN_OBS`` over the smaller ``CDELT``, else ``asin(6.96e8/DSUN_OBS)``
(L1372-1389); a record without ``CUNITi``, ``CDELTi``, ``CRPIXi`` or ``CROTA2`` is skipped
(L1391-1400). Only the first image segment of a record is mapped unless the record set lists
segments or ``A`` is set (L1204-1219, L1319-1332).

The output (float32, ``<series>_mod``) copies the input header (``drms_copykeys``) and sets
(L1462-1504): ``CTYPE1/2 = CRLN-<code>/CRLT-<code>``, ``CUNITi = deg``,
``CRPIXi = n/2 + 0.5``, ``CRVAL1/2 = clon, clat``, ``CDELTi = scale``, ``CROTA2 = map_pa``
(``PCi_j`` only when ``map_pa`` is not 0), ``WCSNAME``/``WCSAXES`` where the series has them,
``DATE``, ``HISTORY`` lines ``MapProj=``, ``LonHG=, LatHG=``, ``Interp=``, ``GridSpacing=``,
``Source=``, the statistics and CALVER bit 28. ``CRLN_OBS`` is copied as it was (the C does
not correct it, though it sets the bit). The map-specific keywords (``MapProj``, ``MapScale``,
``LonHG``...) are not in a ``_mod`` series, so JSOC drops them (L1506-1523). Note that for
``carree`` maproj shifts the map by ``clat`` (L214-216) while a WCS ``CAR`` header with
``CRVAL2 = clat`` describes an oblique projection: the header is right for ``clat = 0`` only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np

from sunpy import log

from sunpy_jsoc_cutout.testing.sun.sungeometry import jsoc_crln_obs
from .datatypes import ExportItem, ProcessError, StepContext
from .maproj_geometry import PROJECTIONS, Projection, map_plane, plane2sphere, projection, sphere_to_plate
from .maproj_interp import INTERPOLATORS, interpolate
from .step_items import arg_float, arg_int, data_statistics, image_items, item_pixels, mod_item, updated_calver

__all__ = ["MaprojArgs", "maproj_image", "maproj_step", "parse_maproj_args"]

PROGRAM = "maproj"
RSUNM = 6.96e8
_UNIT_SCALE = {"arcsec": 1.0, "arcmin": 60.0, "deg": 3600.0, "mas": 1e-3, "rad": 180.0 / math.pi * 3600.0}


class MaprojArgs:
    """The parsed arguments of one ``Maproj`` step."""

    def __init__(self, args: Mapping[str, str]):
        name = args.get("map") or "orthographic"
        found = projection(name)
        if found is None:
            choices = ", ".join(p.arg for p in PROJECTIONS)
            raise ProcessError(f'{PROGRAM}: Parameter "map" is out of permissible range: [{choices}]')
        self.projection: Projection = found
        self.interp = args.get("interp") or "cubiconv"
        if self.interp not in INTERPOLATORS:
            raise ProcessError(
                f'{PROGRAM}: Parameter "interp" is out of permissible range: [cubiconv, nearest, bilinear]'
            )
        self.clon = arg_float(args, "clon", 0.0, PROGRAM)
        self.clat = arg_float(args, "clat", 0.0, PROGRAM)
        self.scale = arg_float(args, "scale", math.nan, PROGRAM)
        self.map_pa = arg_float(args, "map_pa", 0.0, PROGRAM)
        self.grid = arg_float(args, "grid", math.nan, PROGRAM)
        cols, rows = arg_int(args, "cols", 0, PROGRAM), arg_int(args, "rows", 0, PROGRAM)
        cols = rows if cols < 1 else cols
        rows = cols if rows < 1 else rows
        if rows < 1:
            raise ProcessError(f'{PROGRAM}: Error: at least one of "cols" or "rows" must be set')
        if math.isnan(self.scale) or self.scale == 0.0:
            raise ProcessError(
                f"{PROGRAM}: Error: auto scaling from image resolution not implemented; scale parameter must be set."
            )
        self.cols, self.rows = cols, rows
        self.all_segments = arg_int(args, "A", 0, PROGRAM) != 0


def parse_maproj_args(args: Mapping[str, str]) -> MaprojArgs:
    """Parse and check a ``Maproj`` step's arguments (`ProcessError` for what maproj refuses)."""
    return MaprojArgs(args)


class _Grid:
    """The output map's heliographic coordinates (computed once per step, as the C does, L1273-1286)."""

    def __init__(self, args: MaprojArgs):
        x, y = map_plane(args.cols, args.rows, args.scale, args.map_pa)
        lat, lon, status = plane2sphere(x, y, math.radians(args.clat), math.radians(args.clon), args.projection.code)
        self.lat, self.lon, self.offsun = lat, lon, status != 0
        self.ongrid = _near_grid(lon, lat, args.grid) if math.isfinite(args.grid) else None


def _near_grid(lon: np.ndarray, lat: np.ndarray, grid: float) -> np.ndarray:
    """``near_grid_line`` (L870-888): within ``0.01 * grid`` degrees of a meridian or parallel."""
    near, half = 0.01 * grid, 0.5 * grid

    def folded(angle: np.ndarray) -> np.ndarray:
        angle = np.mod(np.degrees(angle), grid)
        return np.where(angle > half, angle - grid, angle)

    return (np.abs(folded(lon)) < near) | (np.abs(folded(lat)) < near)


def _key(header: Mapping, name: str) -> float | None:
    try:
        value = float(header[name])
    except (KeyError, TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _plate(header: Mapping) -> tuple[float, tuple[float, float], float] | None:
    """Radius (pixels), Sun centre (CRPIX) and ``pa = -CROTA2`` as ``solar_image_info`` reads them;
    None when an essential keyword is missing (the record is skipped)."""
    scales = []
    for axis in (1, 2):
        unit, cdelt = header.get(f"CUNIT{axis}"), _key(header, f"CDELT{axis}")
        if unit is None or cdelt is None:
            return None
        scales.append(cdelt * _UNIT_SCALE.get(str(unit).strip(), 1.0))
    crpix1, crpix2, crota = _key(header, "CRPIX1"), _key(header, "CRPIX2"), _key(header, "CROTA2")
    if crpix1 is None or crpix2 is None or crota is None:
        return None
    radius = _key(header, "R_SUN")
    if radius is None:
        rsun_obs = _key(header, "RSUN_OBS")
        if rsun_obs is not None:
            radius = rsun_obs / min(scales)
        elif _key(header, "DSUN_OBS") is not None:
            radius = math.degrees(math.asin(RSUNM / float(header["DSUN_OBS"]))) * 3600.0 / min(scales)
        else:
            return None
    return radius, (crpix1, crpix2), -math.radians(crota)


def maproj_image(header: Mapping, data: np.ndarray, args: MaprojArgs, grid: _Grid | None = None) -> np.ndarray | None:
    """
    Map one image (``perform_mapping`` and the grid overlay); None for a skipped record.

    Parameters
    ----------
    header : Mapping
        The image's header (consistent with ``data``).
    data : numpy.ndarray
        The image, NaN for missing.
    args : MaprojArgs
        The step's arguments.
    grid : optional
        The map coordinates (made from ``args`` when not given).

    Returns
    -------
    numpy.ndarray or None
        float32 map of shape ``(rows, cols)``, NaN where missing.
    """
    grid = grid or _Grid(args)
    plate = _plate(header)
    latc, crln = _key(header, "CRLT_OBS"), _key(header, "CRLN_OBS")
    if plate is None or latc is None or crln is None:
        return None
    radius, crpix, pa = plate
    lonc = math.radians(jsoc_crln_obs(header))
    x, y, hidden = sphere_to_plate(grid.lat, grid.lon, math.radians(latc), lonc, radius, pa, crpix)
    values = interpolate(data, x, y, args.interp)
    values[grid.offsun | hidden] = np.nan
    if grid.ongrid is not None:
        values[grid.ongrid] = np.where(np.isfinite(values[grid.ongrid]), -np.inf, np.inf)
    return values.astype(np.float32)


def _has_segment_list(dataset: str) -> bool:
    """Whether the record set ends with a ``{segment list}`` (L1204-1219)."""
    brace = dataset.rfind("}")
    return brace >= 0 and not dataset[brace + 1 :].strip()


def _mapped_items(items: list[ExportItem], args: MaprojArgs, context: StepContext) -> list[ExportItem]:
    """The image items maproj reads: every one with a segment list or ``A``, else a record's first."""
    images = image_items(items)
    if args.all_segments or _has_segment_list(context.dataset):
        return images
    seen: set[str] = set()
    first = []
    for item in images:
        if item.record not in seen:
            seen.add(item.record)
            first.append(item)
    return first


def _output_header(header: Mapping, args: MaprojArgs, data: np.ndarray, source: str) -> dict:
    out = dict(header)
    code, pa = args.projection.wcs, args.map_pa
    out.update(
        CTYPE1=f"CRLN-{code}",
        CTYPE2=f"CRLT-{code}",
        CUNIT1="deg",
        CUNIT2="deg",
        CRPIX1=0.5 * args.cols + 0.5,
        CRPIX2=0.5 * args.rows + 0.5,
        CRVAL1=args.clon,
        CRVAL2=args.clat,
        CDELT1=args.scale,
        CDELT2=args.scale,
        CROTA2=pa,
        DATE=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    if "WCSNAME" in header:
        out["WCSNAME"] = "Carrington Heliographic"
    if "WCSAXES" in header:
        out["WCSAXES"] = 2
    if pa != 0.0:
        c, sn = math.cos(math.radians(pa)), math.sin(math.radians(pa))
        matrix = {"PC1_1": c, "PC1_2": sn, "PC2_1": sn, "PC2_2": c}  # sic (L1479-1486)
        out.update({key: value for key, value in matrix.items() if key in header})
    history = [
        f"MapProj={args.projection.name}",
        f"LonHG={args.clon:f}, LatHG={args.clat:f}",
        f"Interp={INTERPOLATORS[args.interp]}",
    ]
    if math.isfinite(args.grid):
        history.append(f"GridSpacing={args.grid:f}")
    history.append(f"Source={source}")
    previous = header.get("HISTORY")
    previous = [] if previous is None else [previous] if isinstance(previous, str) else list(previous)
    out["HISTORY"] = [*previous, *history]
    out.update(data_statistics(data), **updated_calver(header))
    return out


def maproj_step(items: list[ExportItem], args: Mapping[str, str], context: StepContext) -> list[ExportItem]:
    """The ``Maproj`` step: each image mapped by `maproj_image`, output in ``<series>_mod``."""
    parsed = parse_maproj_args(args)
    grid = _Grid(parsed)
    out = []
    for item in _mapped_items(items, parsed, context):
        header, data = item_pixels(item, context)
        mapped = maproj_image(header, data, parsed, grid)
        if mapped is None:
            log.debug("maproj skips %s: essential keywords missing", item.record)
            continue
        header = _output_header(header, parsed, mapped, item.record)
        out.append(mod_item(item, context, header, mapped, f"remapped by maproj ({parsed.projection.name})"))
        log.debug("maproj %s -> %s %s", item.record, parsed.projection.arg, mapped.shape)
    return out
