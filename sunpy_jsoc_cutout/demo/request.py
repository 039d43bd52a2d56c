"""
The demo's request: the JSOC export guide's example, shortened, made with ``Fido``.

The guide (Hess Webber & Young 2016, "SDO Data JSOC Export and Cutout Service") exports
``aia.lev1`` at 171, 193, 211 and 304 Å from 2014-02-05 08:00 to 16:00 with an ``im_patch``
box tracked at the Carrington rate, one frame a minute, ``url-tar`` and a filename format with
the wavelength. The demo keeps all of that but the duration (one hour) and puts the box on
NOAA 11967, the active region on the disk that day (Carrington longitude 117°, latitude -12°).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
from astropy.io import fits

import sunpy.net.attrs as a
from sunpy import log
from sunpy.net import Fido

from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout import jobs
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.exceptions import ExportMismatchError, JSOCExportError

__all__ = ["DEMO_EMAIL", "WAVELENGTHS", "Cutouts", "demo_query", "fetch_cutouts"]

#: The notification address registered with the emulator for the demo.
DEMO_EMAIL = "demo@example.com"

#: The guide's four AIA wavelengths, in Å.
WAVELENGTHS = (171, 193, 211, 304)

#: One hour of the guide's eight (2014-02-05 08:00-16:00 UTC).
START, END = "2014-02-05 08:00", "2014-02-05 09:00"

#: The box: centred on NOAA 11967 (Carrington 117°, -12° on 2014-02-05), 300" x 300".
CENTER = (117 * u.deg, -12 * u.deg)
SIZE = 300 * u.arcsec

#: The guide's filename format, with the wavelength (``{T_REC:A}`` is the time without colons).
FILENAME_FORMAT = "aia.lev1.{T_REC:A}.{WAVELNTH}.noproj.fits"


@dataclass(frozen=True)
class Cutouts:
    """
    What the demo's fetch delivered.

    Parameters
    ----------
    plan : list of str
        The export plan ``Fido.search`` printed (`~sunpy_jsoc_cutout.response.JSOCCutoutResponse.plan_lines`).
    requests : dict
        JSOC request ID of each wavelength.
    files : dict
        For each wavelength (Å), its files sorted by time.
    times : dict
        For each wavelength, the ``T_REC`` of each file (from its header), in the order of ``files``.
    """

    plan: list[str]
    requests: dict[int, str]
    files: dict[int, list[Path]]
    times: dict[int, list[str]]


def demo_query() -> tuple:
    """
    The attrs of the demo's ``Fido.search``.

    Returns
    -------
    tuple
        ``a.Time``, ``a.jsoc.Series``, ``a.jsoc_cutout.Wavelengths``, ``Box.carrington``,
        ``Tracking``, ``a.Sample``, ``FilenameFormat``, ``Method`` and ``a.jsoc.Notify``.
    """
    return (
        a.Time(START, END),
        a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(*(w * u.AA for w in WAVELENGTHS)),
        jc.Box.carrington(*CENTER, SIZE, SIZE),
        jc.Tracking(True),
        a.Sample(1 * u.min),
        jc.FilenameFormat(FILENAME_FORMAT),
        jc.Method("url-tar"),
        a.jsoc.Notify(DEMO_EMAIL),
    )


def _identity(path: Path) -> tuple[int, str]:
    """(WAVELNTH, T_REC) from the header of a cutout's image HDU."""
    with fits.open(path) as hdus:
        header = hdus[-1].header
    return int(header["WAVELNTH"]), str(header["T_REC"])[:19]


def _check_against_rows(table, files: list[Path]) -> dict[int, list[tuple[str, Path]]]:
    """Group the files by wavelength; each must be one of the search's rows, and every row must have one."""
    rows = {(int(w), t[:19]) for w, t in zip(table["Wavelength"].value, table["T_REC"].isot, strict=True)}
    found: dict[int, list[tuple[str, Path]]] = {w: [] for w in WAVELENGTHS}
    for path in files:
        wavelength, t_rec = _identity(path)
        if (wavelength, t_rec) not in rows:
            msg = f"{path} holds {wavelength} A at {t_rec}, which is not a row of the search."
            raise ExportMismatchError(msg)
        found[wavelength].append((t_rec, path))
    missing = rows - {(w, t) for w, pairs in found.items() for t, _ in pairs}
    if missing:
        msg = f"{len(missing)} of the {len(rows)} searched frames did not arrive, e.g. {sorted(missing)[0]}."
        raise ExportMismatchError(msg)
    return {w: sorted(pairs) for w, pairs in found.items()}


def _remove_previous(out_dir: Path) -> None:
    """Delete the FITS files an earlier demo run left in ``out_dir`` (only the demo's own names)."""
    for wavelength in WAVELENGTHS:
        for old in (out_dir / str(wavelength)).glob(f"aia.lev1.*.{wavelength}.noproj.fits"):
            old.unlink()


def fetch_cutouts(jsoc_url: str, out_dir: Path) -> Cutouts:
    """
    Search and fetch the demo's cutouts from the JSOC at ``jsoc_url`` into ``out_dir/<wavelength>/``.

    The request ledger is a temporary one: each run is a new job, and files of an earlier run
    in ``out_dir`` are replaced.

    Parameters
    ----------
    jsoc_url : str
        Base URL of the (emulated) JSOC.
    out_dir : `pathlib.Path`
        Download directory.

    Returns
    -------
    `Cutouts`

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.JSOCExportError
        If a download fails.
    sunpy_jsoc_cutout.exceptions.ExportMismatchError
        If a file is not one of the searched frames, or a searched frame has no file.
    """
    _remove_previous(out_dir)
    with (
        tempfile.TemporaryDirectory(prefix="jsoc-cutout-demo-") as scratch,
        use_jsoc(jsoc_url),
        conf.set_temp("ledger", str(Path(scratch) / "ledger.sqlite")),
        conf.set_temp("min_poll", 0.2),  # the emulator is quick; keep the default for the real JSOC
    ):
        result = Fido.search(*demo_query())
        table = result["jsoccutout"]
        plan = table.plan_lines()
        print("\n".join(plan), flush=True)
        files = Fido.fetch(result, path=out_dir / "{wavelength}" / "{file}", progress=False)
        if files.errors:
            msg = f"{len(files.errors)} of the demo's downloads failed: {files.errors}"
            raise JSOCExportError(msg)
        requests = {int(entry.params["wavelength"]): entry.requestid for entry in jobs.list_requests()}
    log.debug("Demo requests: %s", requests)
    grouped = _check_against_rows(table, [Path(f) for f in files])
    return Cutouts(
        plan=plan,
        requests=requests,
        files={w: [p for _, p in pairs] for w, pairs in grouped.items()},
        times={w: [t for t, _ in pairs] for w, pairs in grouped.items()},
    )
