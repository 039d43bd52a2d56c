"""
An end-to-end demonstration that runs offline, against the JSOC emulator.

Run it with::

    python -m sunpy_jsoc_cutout.demo [--out DIR] [--image-size N] [--time-model fast|realistic]

It starts `sunpy_jsoc_cutout.testing.JSOCEmulator` on ``127.0.0.1``, then uses ``drms``
exactly as one would against the real JSOC:

1. a plain ``url``/``fits`` export of a few ``aia.lev1_euv_12s`` 171 Å records;
2. a small request processed by ``im_patch`` (a tracked cutout box);

and then this package's Fido client, as a user would:

3. ``Fido.search`` with ``a.jsoc_cutout`` attrs (the user's guide request, shortened: ``aia.lev1``
   at 171 and 304 Å, a Carrington-tracked box, 10-minute cadence, ``url-tar``, a filename
   format with the wavelength), which prints the export plan, and ``Fido.fetch``.

It downloads the files, opens each with `sunpy.map.Map` and prints a short summary (request
IDs, file names, map shapes and instruments). Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

import drms

import sunpy.map
from sunpy import log

from sunpy_jsoc_cutout.testing import JSOCEmulator

__all__ = ["DEMO_EMAIL", "ExportSummary", "FileSummary", "format_summary", "main", "run_demo"]

#: The notification address registered with the emulator for the demo.
DEMO_EMAIL = "demo@example.com"

#: Seconds to wait for one export to finish.
EXPORT_TIMEOUT = 600

#: Three 171 Å records (12 s cadence) of a quiet day.
PLAIN_RECORD_SET = "aia.lev1_euv_12s[2014-01-01T00:00:01Z/36s][171]{image}"

#: Two 171 Å records cut out by im_patch.
CUTOUT_RECORD_SET = "aia.lev1_euv_12s[2014-01-01T00:00:01Z/24s][171]{image}"

#: im_patch arguments in the export page's order: a 300" x 200" box, tracked (``t=0``
#: means tracking on), not registered, not cropped, centred at (-300", 200").
CUTOUT_PROCESS = {
    "im_patch": {
        "t": 0,
        "r": 0,
        "c": 0,
        "locunits": "arcsec",
        "boxunits": "arcsec",
        "t_ref": "2014-01-01T00:00:01",
        "x": -300,
        "y": 200,
        "width": 300,
        "height": 200,
    }
}


@dataclass(frozen=True)
class FileSummary:
    """
    What the demo found in one downloaded file.

    Parameters
    ----------
    filename : str
        Local file name.
    instrument : str
        The map's instrument, e.g. ``"AIA 3"``.
    wavelength : str
        The map's wavelength, e.g. ``"171.0 Angstrom"``.
    shape : tuple of int
        The shape of the map's data array.
    date : str
        The map's observation date (ISO format).
    """

    filename: str
    instrument: str
    wavelength: str
    shape: tuple[int, ...]
    date: str


@dataclass(frozen=True)
class ExportSummary:
    """
    One export request made by the demo and the files it produced.

    Parameters
    ----------
    label : str
        A short description of the request.
    request_id : str
        The JSOC request ID, e.g. ``"JSOC_20260101_001"``.
    record_set : str
        The record set that was exported.
    records : tuple of str
        The exported record names, as JSOC lists them.
    files : tuple of `FileSummary`
        The downloaded files.
    """

    label: str
    request_id: str
    record_set: str
    records: tuple[str, ...]
    files: tuple[FileSummary, ...]


def _describe_file(path: Path) -> FileSummary:
    """Open one downloaded FITS file with `sunpy.map.Map` and summarise it."""
    smap = sunpy.map.Map(path)
    return FileSummary(
        filename=path.name,
        instrument=str(smap.instrument),
        wavelength=str(smap.wavelength),
        shape=tuple(int(n) for n in smap.data.shape),
        date=smap.date.isot,
    )


def _export_and_download(
    client: drms.Client,
    label: str,
    record_set: str,
    out_dir: Path,
    *,
    process: dict | None = None,
    poll_interval: float = 0.5,
) -> ExportSummary:
    """Submit one url/fits export, wait for it, download its files and describe them."""
    log.info("Submitting %s: %s", label, record_set)
    request = client.export(record_set, method="url", protocol="fits", process=process)
    if not request.wait(sleep=poll_interval, timeout=EXPORT_TIMEOUT):
        msg = f"Export request {request.id} did not finish within {EXPORT_TIMEOUT} s."
        raise TimeoutError(msg)
    log.info("Request %s finished with status %s", request.id, request.status)
    out_dir.mkdir(parents=True, exist_ok=True)
    downloads = request.download(str(out_dir))
    paths = [Path(p) for p in downloads["download"] if p is not None]
    if len(paths) != len(downloads):
        log.warning(
            "%d of %d files of %s could not be downloaded.", len(downloads) - len(paths), len(downloads), request.id
        )
    return ExportSummary(
        label=label,
        request_id=request.id,
        record_set=record_set,
        records=tuple(str(r) for r in request.data["record"]),
        files=tuple(_describe_file(p) for p in paths),
    )


def _fido_cutouts(emulator: JSOCEmulator, out_dir: Path) -> list[ExportSummary]:
    """The user's guide request through ``Fido.search``/``Fido.fetch``; one summary per JSOC request."""
    import astropy.units as u  # noqa: PLC0415

    import sunpy.net.attrs as a  # noqa: PLC0415
    from sunpy.net import Fido  # noqa: PLC0415

    from sunpy_jsoc_cutout import attrs as jc  # noqa: PLC0415  (importing registers the client)
    from sunpy_jsoc_cutout import jobs  # noqa: PLC0415
    from sunpy_jsoc_cutout.config import conf, use_jsoc  # noqa: PLC0415

    ledger = out_dir / "fido" / ".ledger.sqlite"
    with use_jsoc(emulator.url), conf.set_temp("ledger", str(ledger)), conf.set_temp("min_poll", 0.5):
        result = Fido.search(
            a.Time("2014-02-05 08:00", "2014-02-05 09:00"),
            a.jsoc.Series("aia.lev1"),
            jc.Wavelengths(171 * u.AA, 304 * u.AA),
            jc.Box.carrington(100 * u.deg, 10 * u.deg, 200 * u.pix, 200 * u.pix),
            jc.Tracking(True),
            a.Sample(10 * u.min),
            jc.FilenameFormat("aia.lev1.{T_REC:A}.{WAVELNTH}.noproj.fits"),
            jc.Method("url-tar"),
            a.jsoc.Notify(DEMO_EMAIL),
        )
        print("\n".join(result["jsoccutout"].plan_lines()))
        files = Fido.fetch(result, path=out_dir / "fido" / "{wavelength}" / "{file}", progress=False)
        if files.errors:
            log.warning("%d downloads failed: %s", len(files.errors), files.errors)
        summaries = []
        for entry in jobs.list_requests(ledger=ledger):
            done = [f for f in jobs.request_files(entry.requestid, ledger=ledger) if f.done and f.record]
            summaries.append(
                ExportSummary(
                    label=f"Fido cutout request ({entry.params.get('wavelength')} A)",
                    request_id=entry.requestid,
                    record_set=entry.params["ds"],
                    records=tuple(f.record for f in done),
                    files=tuple(_describe_file(Path(f.path)) for f in done if f.path),
                )
            )
    return summaries


def run_demo(out_dir: str | Path, *, image_size: int = 1024, time_model: str = "fast") -> list[ExportSummary]:
    """
    Run both demo exports against a freshly started emulator.

    Parameters
    ----------
    out_dir : str or `pathlib.Path`
        Directory for the downloaded files; one subdirectory per request is created.
    image_size : int, optional
        Side of the emulator's full-disk images in pixels (4096 on the real JSOC).
    time_model : {"fast", "realistic"}, optional
        The emulator's time model. ``"realistic"`` takes minutes, like the real JSOC.

    Returns
    -------
    list of `ExportSummary`
        The plain export first, then the im_patch request, then the Fido client's requests.

    Raises
    ------
    TimeoutError
        If an export does not finish within ``EXPORT_TIMEOUT`` seconds.
    drms.DrmsExportError
        If the (emulated) JSOC rejects or fails an export.
    """
    out_dir = Path(out_dir)
    poll_interval = 0.5 if time_model == "fast" else 2.0
    with JSOCEmulator(image_size=image_size, registered=(DEMO_EMAIL,), time_model=time_model) as emulator:
        log.info("JSOC emulator listening on %s", emulator.url)
        client = drms.Client(server=emulator.server_config, email=DEMO_EMAIL)
        plain = _export_and_download(
            client, "plain url/fits export", PLAIN_RECORD_SET, out_dir / "plain", poll_interval=poll_interval
        )
        cutout = _export_and_download(
            client,
            "im_patch cutout request",
            CUTOUT_RECORD_SET,
            out_dir / "cutout",
            process=CUTOUT_PROCESS,
            poll_interval=poll_interval,
        )
        fido = _fido_cutouts(emulator, out_dir)
    return [plain, cutout, *fido]


def format_summary(exports: list[ExportSummary]) -> str:
    """
    Format the demo's results as a short human-readable report.

    Parameters
    ----------
    exports : list of `ExportSummary`
        As returned by `run_demo`.

    Returns
    -------
    str
        One block per request: its ID and record set, then one line per file.
    """
    lines = []
    for export in exports:
        lines.append(f"{export.label}: {export.request_id}")
        lines.append(f"  record set: {export.record_set}")
        lines.append(f"  records: {len(export.records)}, files: {len(export.files)}")
        if export.records:
            lines.append(f"  first record: {export.records[0]}")
        lines.extend(
            f"  {f.filename}: {f.instrument} {f.wavelength} {f.shape[1]}x{f.shape[0]} px at {f.date}"
            for f in export.files
        )
    return "\n".join(lines)


@contextlib.contextmanager
def _quiet_library_logging():
    """
    Keep the command's output readable while it runs.

    drms configures the root logger at INFO when it is imported, which prints drms's progress
    messages and a second copy of every sunpy log message; both are undone on exit.
    """
    drms_logger = logging.getLogger("drms")
    old_level, old_propagate = drms_logger.level, log.propagate
    drms_logger.setLevel(logging.WARNING)
    log.propagate = False
    try:
        yield
    finally:
        drms_logger.setLevel(old_level)
        log.propagate = old_propagate


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sunpy_jsoc_cutout.demo",
        description="Run a small JSOC export and an im_patch cutout against the offline JSOC emulator.",
    )
    parser.add_argument("--out", default="jsoc_cutout_demo", help="download directory (default: %(default)s)")
    parser.add_argument(
        "--image-size", type=int, default=1024, help="full-disk image size of the emulator (default: %(default)s)"
    )
    parser.add_argument(
        "--time-model", choices=("fast", "realistic"), default="fast", help="emulator time model (default: %(default)s)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """
    Command-line entry point: run the demo and print its summary.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 when every requested file was downloaded and opened.
    """
    args = _parse_args(argv)
    with _quiet_library_logging():
        exports = run_demo(args.out, image_size=args.image_size, time_model=args.time_model)
    print(format_summary(exports))
    print(f"Files are in {Path(args.out).resolve()}")
    complete = all(export.files and len(export.files) == len(export.records) for export in exports)
    return 0 if complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
