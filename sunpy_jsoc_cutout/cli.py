"""
``jsoc-cutout``: JSOC cutouts from the command line.

Every subcommand is a thin layer over the public API: ``search`` and ``fetch`` build a
``Fido.search`` query from ``a.jsoc_cutout`` attrs, the request commands call
`sunpy_jsoc_cutout.jobs`, ``emulator`` serves `sunpy_jsoc_cutout.testing.JSOCEmulator` and
``demo`` runs `sunpy_jsoc_cutout.demo.main`. Run ``jsoc-cutout --help`` (or ``python -m
sunpy_jsoc_cutout.cli --help``) for the options; docs/how_to/command_line.rst has examples, the
exit codes and the ``--json`` shapes.

Exit codes: 0 success; 1 an export or download failed (error entries); 2 bad arguments; 3 a
refused query or a JSOC error before anything was sent; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

import astropy.units as u

from sunpy import log

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "JSON_VERSION",
    "build_parser",
    "build_query",
    "main",
    "parse_quantity",
]

#: Exit status: everything asked for was done.
EXIT_OK = 0
#: Exit status: an export or a download failed (the result has error entries).
EXIT_FAILED = 1
#: Exit status: bad command-line arguments (argparse's own).
EXIT_USAGE = 2
#: Exit status: the query was refused, or JSOC answered with an error, before any export ran.
EXIT_REFUSED = 3
#: Exit status: interrupted by Ctrl-C (SIGINT); run the same command again to resume.
EXIT_INTERRUPTED = 130
#: The version of the ``--json`` output shapes (bumped only on an incompatible change).
JSON_VERSION = 1

#: The environment variable giving ``--notify``'s default.
ENV_EMAIL = "JSOC_EMAIL"

PROG = "jsoc-cutout"

EXAMPLES = """\
examples:
  # the export plan of a tracked 500x500 pixel Carrington box at 171 and 193 A, one frame a minute
  jsoc-cutout search --series aia.lev1 --time "2014-02-05 08:00" "2014-02-05 09:00" \\
      --wavelength 171 193 --cadence 1m --box-carrington 100 10 --size 500px

  # the same, downloaded into data/<wavelength>/ (JSOC_EMAIL gives the notification address)
  JSOC_EMAIL=you@example.org jsoc-cutout fetch --series aia.lev1 --start 2014-02-05T08:00 \\
      --end 2014-02-05T09:00 --wavelength 171 193 --cadence 1m --box-carrington 100 10 \\
      --size 500px --path "data/{wavelength}/{file}"

  # a 300" box on NOAA 11158, not tracked; the plan as JSON
  jsoc-cutout search --series hmi.M_720s --time 2011-02-15T00:00 2011-02-15T06:00 \\
      --noaa 11158 --size 300arcsec --no-track --json

  # the ledger of requests, one request's files, download it again, cancel a pending one
  jsoc-cutout list
  jsoc-cutout status JSOC_20140205_123
  jsoc-cutout download JSOC_20140205_123 --path ~/data/{file}
  jsoc-cutout cancel JSOC_20140205_123

  # an offline JSOC on port 8123, and a fetch against it
  jsoc-cutout emulator --port 8123 --register you@example.org
  jsoc-cutout fetch --jsoc http://127.0.0.1:8123/ ...

exit codes:
  0 success; 1 an export or a download failed; 2 bad arguments; 3 the query was refused or JSOC
  answered with an error before anything was exported; 130 interrupted by Ctrl-C (run the same
  command again to resume: finished files are kept and no new export is made)
"""


class CommandError(Exception):
    """A failure the command reports in a sentence (no traceback), with its exit status."""

    def __init__(self, message: str, status: int = EXIT_REFUSED):
        super().__init__(message)
        self.status = status


# ----------------------------------------------------------------------------- argument types
_UNIT_ALIASES = {
    "px": "pix",
    "pix": "pix",
    "pixel": "pix",
    "pixels": "pix",
    "arcsec": "arcsec",
    "as": "arcsec",
    '"': "arcsec",
    "arcmin": "arcmin",
    "'": "arcmin",
    "deg": "deg",
    "degree": "deg",
    "degrees": "deg",
    "d": "deg",
    "a": "Angstrom",
    "aa": "Angstrom",
    "angstrom": "Angstrom",
    "nm": "nm",
}
_TIME_ALIASES = {
    "s": "s",
    "sec": "s",
    "second": "s",
    "seconds": "s",
    "m": "min",
    "min": "min",
    "minute": "min",
    "minutes": "min",
    "h": "h",
    "hr": "h",
    "hour": "h",
    "hours": "h",
    "d": "day",
    "day": "day",
    "days": "day",
}
_NUMBER_UNIT = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S*)\s*$")


def parse_quantity(text: str, default_unit: str | None = None, *, aliases: dict | None = None) -> u.Quantity:
    """
    A number with a unit, as typed on the command line: ``500px``, ``300arcsec``, ``10 deg``, ``1m``.

    ``px`` means pixels; ``aliases`` (default: angles, pixels and wavelengths) maps short unit
    names to astropy's; other units are parsed by `astropy.units.Quantity`.

    Parameters
    ----------
    text : str
        The argument.
    default_unit : str, optional
        The unit of a bare number (None: a bare number is refused).

    Raises
    ------
    argparse.ArgumentTypeError
        If the text is not a number with a unit (argparse turns it into exit status 2).

    Examples
    --------
    >>> from sunpy_jsoc_cutout.cli import parse_quantity
    >>> parse_quantity("500px")
    <Quantity 500. pix>
    >>> parse_quantity("171", "Angstrom")
    <Quantity 171. Angstrom>
    """
    aliases = _UNIT_ALIASES if aliases is None else aliases
    match = _NUMBER_UNIT.match(str(text))
    if match is None:
        msg = f"{text!r} is not a number with a unit, such as 500px, 300arcsec or 10deg"
        raise argparse.ArgumentTypeError(msg)
    number, unit = match.groups()
    if not unit:
        if default_unit is None:
            msg = f"{text!r} needs a unit, such as 500px, 300arcsec or 10deg"
            raise argparse.ArgumentTypeError(msg)
        unit = default_unit
    unit = aliases.get(unit.lower(), unit)
    try:
        return u.Quantity(float(number), unit)
    except (TypeError, ValueError):
        msg = f"{text!r}: the unit {unit!r} is not understood; use e.g. px, arcsec, deg, Angstrom or s"
        raise argparse.ArgumentTypeError(msg) from None


def _size(text: str) -> u.Quantity:
    return parse_quantity(text)


def _wavelength(text: str) -> u.Quantity:
    return parse_quantity(text, "Angstrom")


def _typed(default_unit: str, kind: str, example: str, *, convert: str | None = None, aliases: dict | None = None):
    """An argparse type: a quantity of one physical type (``"pixel"``: pixels), converted to ``convert``."""

    def parse(text: str) -> u.Quantity:
        value = parse_quantity(text, default_unit, aliases=aliases)
        if (value.unit == u.pix) if kind == "pixel" else (value.unit.physical_type == kind):
            return value.to(convert) if convert else value
        msg = f"{text!r} is not {example}"
        raise argparse.ArgumentTypeError(msg)

    return parse


_cadence = _typed("s", "time", "a time step, such as 45s, 1m, 10min or 1h", aliases=_TIME_ALIASES)
_degrees = _typed("deg", "angle", "an angle, such as 100 or 100deg", convert="deg")
_arcsec = _typed("arcsec", "angle", "an angle, such as -300 or -300arcsec", convert="arcsec")
_pixel = _typed("pix", "pixel", "a pixel position, such as 2048 or 2048px")


def _time(text: str):
    from sunpy.time import parse_time  # noqa: PLC0415

    try:
        return parse_time(text)
    except (TypeError, ValueError):
        msg = f"{text!r} is not a time, such as 2014-02-05T08:00 or '2014-02-05 08:00'"
        raise argparse.ArgumentTypeError(msg) from None


def _track_time(keyword: str):
    def parse(text: str):
        return keyword if text.lower().replace("-", "_") == keyword else _time(text)

    return parse


def _url(text: str) -> str:
    try:
        parts = urlsplit(text)
        good = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # e.g. a port that is not a number
        good = False
    if not good:
        msg = f"{text!r} is not an http:// or https:// address, such as http://jsoc.stanford.edu/ or http://127.0.0.1:8123/"
        raise argparse.ArgumentTypeError(msg)
    return text


def _noaa(text: str) -> int:
    try:
        return int(text.upper().removeprefix("AR").removeprefix("NOAA"))
    except ValueError:
        msg = f"{text!r} is not a NOAA active region number, such as 11158"
        raise argparse.ArgumentTypeError(msg) from None


# ----------------------------------------------------------------------------- the parser
def _common(json_output: bool = False) -> argparse.ArgumentParser:
    """Options every subcommand takes (also accepted before the subcommand)."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection and ledger")
    group.add_argument(
        "--jsoc",
        metavar="URL",
        type=_url,
        default=argparse.SUPPRESS,
        help="JSOC base URL, e.g. an emulator's http://127.0.0.1:8123/ (default: SUNPY_JSOC_CUTOUT_URL or conf.url)",
    )
    group.add_argument(
        "--ledger",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help="the request ledger file (default: conf.ledger, or beside sunpy's download directory)",
    )
    group.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="show the client's log messages"
    )
    if json_output:
        group.add_argument("--json", action="store_true", help="print one JSON document (see the docs for its shape)")
    return parent


def _query_options(parser: argparse.ArgumentParser) -> None:
    what = parser.add_argument_group("what to cut out (mirrors the a.jsoc_cutout attrs)")
    what.add_argument("--series", required=True, help="JSOC series, e.g. aia.lev1, aia.lev1_euv_12s, hmi.M_720s")
    what.add_argument("--start", type=_time, metavar="TIME", help="start of the time range")
    what.add_argument("--end", type=_time, metavar="TIME", help="end of the time range")
    what.add_argument("--time", nargs=2, type=_time, metavar=("START", "END"), help="the time range (a.Time)")
    what.add_argument(
        "--wavelength",
        nargs="+",
        type=_wavelength,
        metavar="WL",
        help="wavelengths; a bare number is in Angstrom (171 193, or 17.1nm)",
    )
    what.add_argument(
        "--cadence", type=_cadence, metavar="STEP", help="one frame per STEP (a.Sample): 45s, 1m, 10min, 1h"
    )
    box = parser.add_argument_group("the box (give one centre and --size)")
    where = box.add_mutually_exclusive_group(required=True)
    centres = [
        ("--box-carrington", _degrees, ("LON", "LAT"), "Carrington longitude and latitude, degrees (needs tracking)"),
        ("--box-stonyhurst", _degrees, ("LON", "LAT"), "Stonyhurst longitude and latitude, degrees"),
        ("--box-arcsec", _arcsec, ("X", "Y"), "centre in SDO's helioprojective view, arcsec"),
        ("--box-pixels", _pixel, ("X", "Y"), "centre in pixels of the stored image (1-based)"),
    ]
    for flag, kind, metavar, help_text in centres:
        where.add_argument(flag, nargs=2, type=kind, metavar=metavar, help=help_text)
    where.add_argument("--noaa", type=_noaa, metavar="NUMBER", help="centre on a NOAA active region (ActiveRegion)")
    box.add_argument(
        "--size",
        nargs="+",
        type=_size,
        metavar="SIZE",
        help="box WIDTH [HEIGHT] with units: 500px, 300arcsec or 10deg (HEIGHT defaults to WIDTH)",
    )
    box.add_argument("--car-rot", type=int, metavar="N", help="Carrington rotation of --box-carrington")
    box.add_argument("--ref-time", type=_time, metavar="TIME", help="reference time t_ref of the box centre")
    proc = parser.add_argument_group("processing and export")
    proc.add_argument(
        "--track",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="follow the Sun's rotation (default: JSOC's, tracked)",
    )
    proc.add_argument(
        "--track-start", type=_track_time("east_limb"), metavar="TIME|east_limb", help="start of tracking"
    )
    proc.add_argument("--track-stop", type=_track_time("west_limb"), metavar="TIME|west_limb", help="end of tracking")
    proc.add_argument(
        "--register", action=argparse.BooleanOptionalAction, default=None, help="sub-pixel registration (r=1)"
    )
    proc.add_argument(
        "--crop", action=argparse.BooleanOptionalAction, default=None, help="NaN outside the solar limb (c=1)"
    )
    proc.add_argument("--method", choices=("url", "url-tar"), help="one file per record (url) or one tar file")
    proc.add_argument(
        "--protocol",
        choices=("fits", "jpg", "mpg", "mp4"),
        help="export protocol (not as-is: its cutout files carry no keywords)",
    )
    proc.add_argument("--filename-format", metavar="FMT", help="JSOC file name format, e.g. '{T_REC:A}.{WAVELNTH}'")
    proc.add_argument(
        "--notify",
        metavar="EMAIL",
        default=os.environ.get(ENV_EMAIL) or None,
        help=f"JSOC-registered e-mail address (default: ${ENV_EMAIL}; needed to fetch)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``jsoc-cutout`` argument parser, with one subparser per subcommand."""
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="JSOC cutouts (im_patch) from the command line: plan, fetch and manage export requests.",
        epilog=EXAMPLES,
        formatter_class=formatter,
        parents=[_common()],
    )
    from sunpy_jsoc_cutout import __version__  # noqa: PLC0415

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name, help_text, *, json_output=False, aliases=(), epilog=None):
        subparser = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            aliases=list(aliases),
            parents=[_common(json_output)],
            formatter_class=formatter,
            epilog=epilog,
        )
        subparser.set_defaults(subparser=subparser)
        return subparser

    search = add(
        "search",
        "Search: print the export plan and the records it will turn into files (nothing is exported).",
        json_output=True,
        epilog="example:\n  jsoc-cutout search --series aia.lev1_euv_12s --time 2014-02-05T08:00 2014-02-05T08:10 "
        "--wavelength 171 --box-arcsec -517 -246 --size 300arcsec",
    )
    _query_options(search)
    search.add_argument("--summary", action="store_true", help="print the plan only, not the table of records")
    search.set_defaults(handler=_cmd_search)

    fetch = add(
        "fetch",
        "Search and fetch: stage the exports at JSOC one at a time and download the cutouts.",
        json_output=True,
        epilog="Interrupted (Ctrl-C, exit 130)? Run the same command again: finished files are kept and the "
        "export requests already made are adopted, not made again.",
    )
    _query_options(fetch)
    _download_options(fetch)
    fetch.add_argument("--cancel-foreign", action="store_true", help="cancel another program's pending export")
    fetch.set_defaults(handler=_cmd_fetch)

    listing = add("list", "List the export requests of the ledger, oldest first.", json_output=True)
    listing.add_argument(
        "--status", choices=("submitted", "complete", "failed", "expired", "cancelled"), help="only these"
    )
    listing.set_defaults(handler=_cmd_list)

    status = add("status", "Show ledger requests with their files (all requests without an ID).", json_output=True)
    status.add_argument("requestid", nargs="*", metavar="REQUESTID", help="JSOC request IDs (JSOC_YYYYMMDD_NNN)")
    status.set_defaults(handler=_cmd_status)

    download = add(
        "download",
        "Download (again) the files of completed requests; files already complete are skipped.",
        json_output=True,
        aliases=("resume",),
    )
    download.add_argument("requestid", nargs="+", metavar="REQUESTID", help="JSOC request IDs")
    _download_options(download)
    download.set_defaults(handler=_cmd_download)

    restage = add("restage", "Stage a ledger request again (JSOC deletes exports after about 7 days).")
    restage.add_argument("requestid", metavar="REQUESTID")
    restage.add_argument(
        "--notify",
        metavar="EMAIL",
        default=os.environ.get(ENV_EMAIL) or None,
        help=f"the address the request was made with (default: ${ENV_EMAIL}, or the ledger's)",
    )
    restage.set_defaults(handler=_cmd_restage)

    cancel = add("cancel", "Cancel a pending ledger request, so that the address may submit another.")
    cancel.add_argument("requestid", metavar="REQUESTID")
    cancel.set_defaults(handler=_cmd_cancel)

    emulator = add("emulator", "Serve the offline JSOC emulator on 127.0.0.1 until Ctrl-C; prints its URL first.")
    emulator.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one (default)")
    emulator.add_argument("--image-size", type=int, default=1024, help="full-disk image side (default: %(default)s)")
    emulator.add_argument("--time-model", choices=("fast", "realistic"), default="fast", help="export timings")
    emulator.add_argument(
        "--register",
        action="append",
        metavar="EMAIL",
        help=f"register a notification address (repeatable; default: ${ENV_EMAIL} if set)",
    )
    emulator.add_argument("--root", help="directory for the emulator's files (default: a temporary one)")
    emulator.add_argument("--seed", type=int, default=0, help="random seed")
    emulator.set_defaults(handler=_cmd_emulator)

    demo = add("demo", "Run the offline end-to-end demo (python -m sunpy_jsoc_cutout.demo).")
    demo.add_argument("--out", default="jsoc_cutout_demo", help="download directory (default: %(default)s)")
    demo.add_argument("--image-size", type=int, default=1024, help="emulator image size (default: %(default)s)")
    demo.add_argument("--time-model", choices=("fast", "realistic"), default="fast", help="emulator time model")
    demo.add_argument("--mp4", action="store_true", help="also write cutouts.mp4 (needs imageio-ffmpeg)")
    demo.set_defaults(handler=_cmd_demo)
    return parser


def _download_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("download")
    group.add_argument(
        "--path",
        metavar="TEMPLATE",
        help="where files go, as Fido's path=: a folder, or a template with {file} and table columns such as "
        "{wavelength} or {T_REC:%%Y%%m%%d} (default: sunpy's download directory)",
    )
    group.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="show progress bars (default: on)"
    )
    group.add_argument("--overwrite", action="store_true", help="download files that exist again")
    group.add_argument("--keep-tar", action="store_true", help="keep the tar files of url-tar exports")


# ----------------------------------------------------------------------------- the query
def build_query(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None) -> list:
    """
    The Fido query (a list of attrs) of parsed ``search``/``fetch`` arguments.

    Argument combinations argparse cannot check are refused with ``parser.error`` (exit 2);
    an attr refusing its value raises `~sunpy_jsoc_cutout.exceptions.CutoutQueryError`.
    """
    import sunpy.net.attrs as a  # noqa: PLC0415

    from sunpy_jsoc_cutout import attrs as jc  # noqa: PLC0415

    def usage(message: str):
        if parser is None:
            raise CommandError(message, EXIT_USAGE)
        parser.error(message)

    if args.time and (args.start or args.end):
        usage("give the time range as --time START END or as --start and --end, not both")
    if bool(args.start) != bool(args.end):
        usage("--start and --end go together (or give --time START END)")
    times = args.time or ([args.start, args.end] if args.start else None)
    limb = args.track_start == "east_limb" or args.track_stop == "west_limb"
    if times is None and not limb:
        usage("give a time range: --time START END, or --start and --end")
    if not args.size:
        usage("give the box size: --size WIDTH [HEIGHT], e.g. --size 500px or --size 300arcsec 200arcsec")
    if len(args.size) > 2:
        usage("--size takes WIDTH and at most one HEIGHT")
    width, height = args.size[0], args.size[-1]
    if args.car_rot is not None and not args.box_carrington:
        usage("--car-rot goes with --box-carrington")

    query = [a.jsoc.Series(args.series)]
    if times is not None:
        query.append(a.Time(*times))
    if args.noaa is not None:
        query.append(jc.ActiveRegion(args.noaa, width, height))
    elif args.box_carrington:
        lon, lat = args.box_carrington
        query.append(jc.Box.carrington(lon, lat, width, height, car_rot=args.car_rot))
    elif args.box_stonyhurst:
        lon, lat = args.box_stonyhurst
        query.append(jc.Box.stonyhurst(lon, lat, width, height))
    else:
        centre = args.box_arcsec or args.box_pixels
        query.append(jc.Box(u.Quantity(centre), width, height))
    if args.wavelength:
        query.append(jc.Wavelengths(*args.wavelength))
    if args.cadence is not None:
        query.append(a.Sample(args.cadence))
    if args.track is not None or args.track_start is not None or args.track_stop is not None:
        enabled = True if args.track is None else args.track
        query.append(jc.Tracking(enabled, start=args.track_start, stop=args.track_stop))
    if args.ref_time is not None:
        query.append(jc.ReferenceTime(args.ref_time))
    if args.register is not None:
        query.append(jc.Register(args.register))
    if args.crop is not None:
        query.append(jc.Crop(args.crop))
    if args.method:
        query.append(jc.Method(args.method))
    if args.protocol:
        query.append(jc.ExportProtocol(args.protocol))
    if args.filename_format:
        query.append(jc.FilenameFormat(args.filename_format))
    if args.notify:
        query.append(a.jsoc.Notify(args.notify))
    return query


# ----------------------------------------------------------------------------- output
def _write(text: str = "", stream=None) -> None:
    stream = sys.stdout if stream is None else stream
    stream.write(text + "\n")
    stream.flush()


def _warn(text: str) -> None:
    _write(text, sys.stderr)


def _dump(document: dict) -> None:
    _write(json.dumps(document, indent=2, default=str))


def _iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plan_dict(plan) -> dict:
    fields = ("series", "ds", "process", "sizeratio", "method", "protocol", "filenamefmt", "wavelength")
    return {name: getattr(plan, name, None) for name in fields}


def _row_dict(row) -> dict:
    return {
        "T_REC": row["T_REC"].isot,
        "T_OBS": row["T_OBS"].isot,
        "wavelength": float(row["Wavelength"].to_value(u.AA)),
        "instrument": str(row["Instrument"]),
        "series": str(row["Series"]),
        "quality": int(row["QUALITY"]),
        "skip": str(row["Skip"]),
        "size_mib": round(float(row["Size"].to_value(u.Mibyte)), 3),
        "online": bool(row["Online"]),
        "request": int(row["Request"]),
        "filename": str(row["Filename"]),
    }


def _search_document(table) -> dict:
    """The ``search --json`` shape: the plan's requests and one entry per record row."""
    requests = []
    rows = []
    if len(table):
        request = np.asarray(table["Request"])
        size = np.asarray(table["Size"].to_value(u.Mibyte))
        skipped = np.asarray(table["Skip"]) != ""
        for index in sorted({int(i) for i in request}):
            mine = request == index
            requests.append(
                {
                    "index": index,
                    **_plan_dict(table.plans[index]),
                    "records": int(mine.sum()),
                    "files": int((mine & ~skipped).sum()),
                    "size_mib": round(float(size[mine].sum()), 3),
                }
            )
        rows = [_row_dict(row) for row in table]
    files = sum(r["files"] for r in requests)
    return {
        "command": "search",
        "version": JSON_VERSION,
        "notify": table.notify,
        "method": table.method,
        "summary": {
            "requests": len(requests),
            "records": len(rows),
            "files": files,
            "size_mib": round(sum(r["size_mib"] for r in requests), 3),
        },
        "requests": requests,
        "rows": rows,
    }


def _files_document(command: str, files, requests: list[dict]) -> dict:
    """The ``fetch --json`` / ``download --json`` shape."""
    return {
        "command": command,
        "version": JSON_VERSION,
        "ok": not files.errors,
        "files": [str(f) for f in files],
        "errors": [
            {"path": str(e.filepath_partial), "url": str(e.url), "message": str(e.exception)} for e in files.errors
        ],
        "requests": requests,
    }


def _request_dict(entry, files=None) -> dict:
    params = entry.params
    out = {
        "requestid": entry.requestid,
        "status": entry.status,
        "message": entry.message,
        "submitted": _iso(entry.submitted),
        "updated": _iso(getattr(entry, "updated", None)),
        "ds": params.get("ds"),
        "process": params.get("process"),
        "method": params.get("method"),
        "protocol": params.get("protocol"),
        "wavelength": params.get("wavelength"),
    }
    if files is not None:
        out["files_total"] = len(files)
        out["files_done"] = sum(1 for f in files if f.done)
    return out


def _file_dict(entry) -> dict:
    return {
        "record": entry.record,
        "filename": entry.filename,
        "url": entry.url,
        "path": entry.path,
        "size": entry.size,
        "sha256": entry.sha256,
        "done": bool(entry.done),
    }


def _report_files(files, as_json: bool, command: str, requests: list[dict]) -> int:
    if as_json:
        _dump(_files_document(command, files, requests))
    else:
        for path in files:
            _write(str(path))
        for request in requests:
            _warn(f"{request['requestid']}: {request['status']} {request.get('ds') or ''}".rstrip())
        _warn(f"{len(files)} file(s) downloaded, {len(files.errors)} failed.")
        for error in files.errors:
            _warn(f"error: {error.url}: {error.exception}")
    if files.errors:
        return EXIT_FAILED
    return EXIT_OK


# ----------------------------------------------------------------------------- context
@contextlib.contextmanager
def _configured(args: argparse.Namespace) -> Iterator[None]:
    """``--jsoc`` and ``--ledger`` as `use_jsoc` and ``conf.ledger`` for the command's duration."""
    from sunpy_jsoc_cutout.config import conf, use_jsoc  # noqa: PLC0415

    with contextlib.ExitStack() as stack:
        url = getattr(args, "jsoc", None)
        if url:
            stack.enter_context(use_jsoc(url))
        ledger = getattr(args, "ledger", None)
        if ledger:
            stack.enter_context(conf.set_temp("ledger", str(Path(ledger).expanduser().absolute())))
        yield


def _search(args: argparse.Namespace, parser: argparse.ArgumentParser):
    """``Fido.search`` of the arguments' query: the client's table."""
    from sunpy.net import Fido  # noqa: PLC0415

    import sunpy_jsoc_cutout  # noqa: F401, PLC0415  (registers the client with Fido)

    query = build_query(args, parser)
    result = Fido.search(*query)
    errors = list(getattr(result, "errors", None) or [])  # sunpy >= 7.1 keeps a client's exception here
    if errors:
        raise CommandError(" ".join(str(getattr(e, "exception", e)) for e in errors))
    tables = [block for block in result if block.client.__class__.__name__ == "JSOCCutoutClient"]
    if not tables:
        raise CommandError("No client took the query; it needs a box (--box-... or --noaa) and a series.")
    return result, tables[0]


def _ledger_requests(table) -> list[dict]:
    """The ledger entries of the table's plans (the latest of each), after a fetch."""
    from sunpy_jsoc_cutout import jobs  # noqa: PLC0415

    if not len(table):
        return []
    used = sorted({int(i) for i in np.asarray(table["Request"])})
    wanted = {(table.plans[i].ds, table.plans[i].process) for i in used}
    latest = {}
    for entry in jobs.list_requests():
        key = (entry.params.get("ds"), entry.params.get("process"))
        if key in wanted:
            latest[key] = entry
    return [_request_dict(entry, jobs.request_files(entry.requestid)) for entry in latest.values()]


# ----------------------------------------------------------------------------- subcommands
def _cmd_search(args, parser) -> int:
    result, table = _search(args, parser)
    if args.json:
        _dump(_search_document(table))
    elif args.summary:
        _write("\n".join(table.plan_lines()) or "Nothing to export.")
    else:
        _write(str(result).rstrip())
    return EXIT_OK


def _cmd_fetch(args, parser) -> int:
    from sunpy.net import Fido  # noqa: PLC0415

    if not args.notify:
        parser.error(f"fetch needs a JSOC-registered e-mail address: --notify EMAIL, or set {ENV_EMAIL}")
    result, table = _search(args, parser)
    if not args.json:
        _warn("\n".join(table.plan_lines()) or "Nothing to export.")
    files = Fido.fetch(
        result,
        path=args.path,
        progress=args.progress,
        overwrite=args.overwrite,
        keep_tar=args.keep_tar,
        cancel_foreign=args.cancel_foreign,
    )
    return _report_files(files, args.json, "fetch", _ledger_requests(table))


def _cmd_download(args, parser) -> int:
    import parfive  # noqa: PLC0415

    from sunpy_jsoc_cutout import jobs  # noqa: PLC0415

    files = parfive.Results()
    requests = []
    for requestid in args.requestid:
        got = jobs.download(requestid, args.path, progress=args.progress, keep_tar=args.keep_tar)
        files.data += list(got)
        for error in got.errors:
            files.add_error(error.filepath_partial, error.url, error.exception)
        entries = [e for e in jobs.list_requests() if e.requestid == requestid]
        requests += [_request_dict(e, jobs.request_files(requestid)) for e in entries] or [
            {"requestid": requestid, "status": "not in the ledger"}
        ]
    return _report_files(files, args.json, "download", requests)


def _listing(entries, with_files: bool, as_json: bool, command: str) -> int:
    from sunpy_jsoc_cutout import jobs  # noqa: PLC0415
    from sunpy_jsoc_cutout.config import ledger_path  # noqa: PLC0415

    documents = []
    for entry in entries:
        files = jobs.request_files(entry.requestid)
        document = _request_dict(entry, files)
        if with_files:
            document["files"] = [_file_dict(f) for f in files]
        documents.append(document)
    if as_json:
        _dump({"command": command, "version": JSON_VERSION, "ledger": str(ledger_path()), "requests": documents})
        return EXIT_OK
    if not documents:
        _warn(f"No requests in the ledger {ledger_path()}.")
    for doc in documents:
        _write(
            f"{doc['requestid']:<22} {doc['status']:<10} {doc['files_done']:>4}/{doc['files_total']:<4} files  "
            f"{doc['submitted'] or '':<20}  {doc['ds']}"
        )
        if with_files:
            if doc["message"]:
                _write(f"    message: {doc['message']}")
            _write(f"    process: {doc['process']}")
            for f in doc["files"]:
                _write(f"    {'done' if f['done'] else 'todo'}  {f['path'] or f['filename']}")
    return EXIT_OK


def _cmd_list(args, parser) -> int:
    from sunpy_jsoc_cutout import jobs  # noqa: PLC0415

    return _listing(jobs.list_requests(args.status), False, args.json, "list")


def _cmd_status(args, parser) -> int:
    from sunpy_jsoc_cutout import jobs  # noqa: PLC0415
    from sunpy_jsoc_cutout.config import ledger_path  # noqa: PLC0415

    entries = jobs.list_requests()
    if args.requestid:
        known = {e.requestid: e for e in entries}
        missing = [r for r in args.requestid if r not in known]
        if missing:
            msg = f"The ledger {ledger_path()} has no request {', '.join(missing)}; list the known ones with '{PROG} list'."
            raise CommandError(msg)
        entries = [known[r] for r in args.requestid]
    return _listing(entries, True, args.json, "status")


def _cmd_restage(args, parser) -> int:
    from sunpy_jsoc_cutout import jobs  # noqa: PLC0415

    outcome = jobs.restage(args.requestid, notify=args.notify)
    if getattr(outcome, "requestid", None) and hasattr(outcome, "index"):
        _write(str(outcome.requestid))
        _warn(
            f"{args.requestid} is staged as {outcome.requestid}; download it with '{PROG} download {outcome.requestid}'."
        )
        return EXIT_OK
    _warn(f"error: JSOC did not stage {args.requestid} again: {outcome.message}")
    return EXIT_FAILED


def _cmd_cancel(args, parser) -> int:
    from sunpy_jsoc_cutout import jobs  # noqa: PLC0415

    if jobs.cancel(args.requestid):
        _warn(f"{args.requestid} cancelled.")
        return EXIT_OK
    _warn(f"{args.requestid} was not cancelled: it is not pending at JSOC (see '{PROG} status {args.requestid}').")
    return EXIT_FAILED


def _cmd_emulator(args, parser) -> int:
    from sunpy_jsoc_cutout.testing.__main__ import main as serve  # noqa: PLC0415

    registered = args.register or ([os.environ[ENV_EMAIL]] if os.environ.get(ENV_EMAIL) else [])
    argv = ["--host", "127.0.0.1", "--port", str(args.port), "--image-size", str(args.image_size)]
    argv += ["--time-model", args.time_model, "--seed", str(args.seed)]
    for email in registered:
        argv += ["--register", email]
    if args.root:
        argv += ["--root", args.root]
    return serve(argv)


def _cmd_demo(args, parser) -> int:
    from sunpy_jsoc_cutout.demo import main as demo  # noqa: PLC0415

    argv = ["--out", args.out, "--image-size", str(args.image_size), "--time-model", args.time_model]
    return demo([*argv, "--mp4"] if args.mp4 else argv)


# ----------------------------------------------------------------------------- main
def _fail(args: argparse.Namespace, message: str, status: int) -> int:
    """Report an error on stderr (and, with ``--json``, as a JSON document on stdout)."""
    _warn(f"{PROG} {args.command}: error: {message}")
    if getattr(args, "json", False):
        _dump({"command": args.command, "version": JSON_VERSION, "ok": False, "exit_status": status, "error": message})
    return status


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text or err.__class__.__name__


def main(argv: list[str] | None = None) -> int:
    """
    The ``jsoc-cutout`` command: parse ``argv`` (default ``sys.argv[1:]``), run the subcommand.

    Returns
    -------
    int
        The exit status: `EXIT_OK`, `EXIT_FAILED`, `EXIT_REFUSED` or `EXIT_INTERRUPTED`
        (argparse exits with `EXIT_USAGE` itself).
    """
    from sunpy_jsoc_cutout.exceptions import JSOCCutoutError  # noqa: PLC0415

    parser = build_parser()
    args = parser.parse_args(argv)
    level = log.level
    if not getattr(args, "verbose", False):
        log.setLevel("WARNING")
    try:
        with _configured(args):
            return args.handler(args, args.subparser)
    except KeyboardInterrupt:
        _warn(
            f"{PROG}: interrupted. Finished files are kept and recorded in the ledger; run the same command "
            "again to resume without a new export."
        )
        return EXIT_INTERRUPTED
    except CommandError as err:
        return _fail(args, str(err), err.status)
    except JSOCCutoutError as err:
        return _fail(args, _one_line(err), EXIT_REFUSED)
    except OSError as err:
        return _fail(args, _one_line(err), EXIT_FAILED)
    finally:
        log.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
