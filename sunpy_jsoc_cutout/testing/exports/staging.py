"""Making the files of a completed export: what JSOC's export programs leave in the export SU.

For a request this module

1. expands the records into one `~sunpy_jsoc_cutout.testing.processing.datatypes.ExportItem` per
   segment file (records without an image contribute no image file; ``spikes`` always exist),
2. runs the processing steps (`~sunpy_jsoc_cutout.testing.processing.registry.run_steps`),
3. writes every file under its ``filenamefmt`` name with `fitsfiles.make_segment_file`
   (``fits``: the record keywords in the header; ``as-is``: none, plus
   ``<requestid>.keywords.txt``),
4. writes ``index.txt`` (the packing list: ``jsoc_export_as_fits``/``jsoc_export_as_is``
   header lines, ``# DATA``, ``record<TAB>filename`` rows) and ``index.json`` (string values,
   ``keywords`` and, for ``url-tar``, ``tarfile`` members, as ``jsoc_export_make_index``),
5. for ``url-tar``: ``tar chf`` of the whole directory (members ``./<name>``, index files
   included), then, as JSOC does, deletes the data files, leaving the tar and the index files.

Image protocols (``jpg``, ``mpg``, ``mp4``): step 3 makes JPEG pictures (and an MP4 movie)
instead of FITS files, with :mod:`~sunpy_jsoc_cutout.testing.processing.image_protocols`; ``png`` fails as JSOC's script does
(``Illegal protocol png``).
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sunpy import log

from sunpy_jsoc_cutout.testing.catalogue.filenames import FilenameError, RecordNames, make_filename
from sunpy_jsoc_cutout.testing.processing.datatypes import ExportItem, ProcessError, StepContext
from sunpy_jsoc_cutout.testing.processing.image_protocols import write_image_files
from sunpy_jsoc_cutout.testing.processing.process import ProcessChain
from sunpy_jsoc_cutout.testing.processing.registry import run_steps
from sunpy_jsoc_cutout.testing.sun.fitsfiles import make_segment_file, write_segment_fits
from .filestore import ExportPathError, export_file_path

__all__ = ["IMAGE_PROTOCOLS", "StagingError", "StagingFaults", "StagingResult", "build_items", "stage_export"]

IMAGE_PROTOCOLS = ("jpg", "mpg", "mp4", "png")
UNSAFE_KINDS = ("absolute", "dotdot", "symlink", "hardlink")


class StagingError(RuntimeError):
    """The export failed while its files were made; ``str(err)`` is the status-4 message."""


@dataclass
class StagingFaults:
    """
    Export-level faults applied while staging one request.

    Attributes
    ----------
    fail_after : int or None
        Fail after this many files were written.
    fail_message : str
        The error of the failed request.
    unsafe_tar : tuple of str
        Extra tar members to add: ``absolute``, ``dotdot``, ``symlink``, ``hardlink``.
    """

    fail_after: int | None = None
    fail_message: str = "Export failed: simulated fault in the export system."
    unsafe_tar: tuple[str, ...] = ()


@dataclass
class StagingResult:
    """What a completed export left behind."""

    sums_dir: str
    index: dict
    rows: list[tuple[str, str]] = field(default_factory=list)
    nbytes: int = 0


@dataclass
class StagingJob:
    """Everything `stage_export` needs about one request."""

    requestid: str
    records: object
    chain: ProcessChain
    method: str
    protocol: str
    filenamefmt: str | None
    sums_dir: str
    local_dir: Path
    catalogue: object
    image_size: int | None
    now_text: Callable[[], str]
    faults: StagingFaults = field(default_factory=StagingFaults)
    dataset: str = ""  # the record-set spec as opened (im_patch re-reads it, e.g. for lev1 cadences)


def protocol_kind(protocol: str) -> str:
    """``as-is``, ``fits``, an image protocol, or the lower-cased protocol head."""
    head = protocol.split(",", 1)[0].strip().lower()
    return "as-is" if head in ("as-is", "su-as-is") else head


def build_items(records, segments: Sequence[str] | None = None) -> list[ExportItem]:
    """
    One item per exported segment file, in record order then segment order.

    Parameters
    ----------
    records : Records
        The records of the export.
    segments : sequence of str, optional
        Segment names (default: ``records.segments`` or all of the series' segments).
    """
    names = segments or records.segments or [s.name for s in records.series.segments]
    sdefs = [records.series.segment(n) for n in names]
    has_image = np.asarray(records.has_image, dtype=bool)
    items = []
    for i in range(len(records)):
        header = None
        for sdef in sdefs:
            if sdef is None or (sdef.kind != "spikes" and not has_image[i]):
                continue
            header = header if header is not None else records.header(i)
            items.append(
                ExportItem(
                    records.record_spec(i), records.series.name, records, i, sdef, header, RecordNames(records, i, sdef)
                )
            )
    return items


def _write_files(job: StagingJob, items: list[ExportItem]) -> tuple[list[tuple[str, str]], int]:
    keywords = protocol_kind(job.protocol) != "as-is"
    rows, nbytes = [], 0
    for counter, item in enumerate(items):
        if job.faults.fail_after is not None and counter >= job.faults.fail_after:
            raise StagingError(job.faults.fail_message)
        name = make_filename(job.filenamefmt, item.names, counter)
        try:
            path = export_file_path(job.local_dir, name)
        except ExportPathError as err:  # CFITSIO cannot create the file (or it would be outside)
            log.warning("JSOC emulator: %s", err)
            raise StagingError(f"Failure exporting segment '{item.segment.name}'.") from err
        if item.data is not None:  # pixels made by a step (float32 _mod segments are never compressed)
            nbytes += write_segment_fits(
                path, item.header, item.data, storage=item.segment.storage, compress=False, keywords=keywords
            )
        else:
            nbytes += make_segment_file(
                path, item.header, item.segment, size=job.image_size, keywords=keywords, region=item.region
            )
        rows.append((item.record, path.name))  # JSOC lists basename(realfileout)
    if job.faults.fail_after is not None and len(items) >= job.faults.fail_after:
        raise StagingError(job.faults.fail_message)
    return rows, nbytes


def size_in_mb(nbytes: int) -> int:
    """JSOC's MB rounding: anything from 1 byte to 1 MiB is 1, then integer division."""
    if 0 < nbytes < 1024 * 1024:
        return 1
    return nbytes // (1024 * 1024)


def _header_lines(job: StagingJob, rows, nbytes: int) -> list[tuple[str, str]]:
    count, size = str(len(rows)), str(size_in_mb(nbytes))
    if protocol_kind(job.protocol) == "as-is":  # jsoc_export_as_is
        return [
            ("version", "1"),
            ("requestid", job.requestid),
            ("method", job.method),
            ("protocol", job.protocol),
            ("wait", "0"),
            ("count", count),
            ("size", size),
            ("status", "0"),
            ("dir", job.sums_dir),
        ]
    return [
        ("version", "0.5"),
        ("requestid", job.requestid),
        ("method", job.method),
        ("protocol", job.protocol),
        ("count", count),
        ("size", size),
        ("exptime", job.now_text()),
        ("dir", job.sums_dir),
        ("status", "0"),
    ]


def write_index(job: StagingJob, rows: list[tuple[str, str]], nbytes: int) -> dict:
    """Write ``index.txt`` and ``index.json``; return the ``index.json`` content."""
    header = _header_lines(job, rows, nbytes)
    title = "# JSOC Export File List" if protocol_kind(job.protocol) == "as-is" else "# JSOC "
    lines = [title] + [f"{k}={v}" for k, v in header] + ["# DATA "] + [f"{r}\t{f}" for r, f in rows]
    if not rows:
        lines.append("warning=No FITS files were exported. The requested FITS files no longer exist.")
    (job.local_dir / "index.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    index: dict = dict(header)
    index["keywords"] = (
        f"{job.sums_dir}/{job.requestid}.keywords.txt" if job.protocol == "as-is" else "**IN FITS FILES**"
    )
    if "-tar" in job.method:
        index["tarfile"] = f"{job.sums_dir}/{job.requestid}.tar"
    data = [{"record": r, "filename": f} for r, f in rows]
    if not rows:
        data = [
            {"record": "warning=No FITS files were exported. The requested FITS files no longer exist.", "filename": ""}
        ]
    index["data"] = data
    (job.local_dir / "index.json").write_text(json.dumps(index, indent="\t") + "\n", encoding="utf-8")
    return index


def write_keywords_txt(job: StagingJob, items: list[ExportItem]) -> None:
    """``<requestid>.keywords.txt`` of an ``as-is`` export: one tab-separated row per record."""
    seen, table = set(), []
    for item in items:
        if item.record in seen:
            continue
        seen.add(item.record)
        table.append((item.record, item.header))
    names = [name for name in table[0][1] if not str(name).startswith("_")] if table else []
    lines = ["\t".join(["query", *names])]
    lines += ["\t".join([rec] + [str(hdr.get(n, "")) for n in names]) for rec, hdr in table]
    (job.local_dir / f"{job.requestid}.keywords.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _unsafe_member(kind: str) -> tuple[tarfile.TarInfo, bytes | None]:
    payload = b"emulator: unsafe tar member\n"
    if kind == "absolute":
        info = tarfile.TarInfo("/tmp/jsoc_emulator_unsafe_absolute.txt")
    elif kind == "dotdot":
        info = tarfile.TarInfo("./../jsoc_emulator_unsafe_dotdot.txt")
    elif kind == "symlink":
        info = tarfile.TarInfo("./unsafe_symlink.fits")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        return info, None
    elif kind == "hardlink":
        info = tarfile.TarInfo("./unsafe_hardlink.fits")
        info.type, info.linkname = tarfile.LNKTYPE, "../../../../etc/passwd"
        return info, None
    else:
        raise ValueError(f"unknown unsafe tar member kind {kind!r}; expected one of {UNSAFE_KINDS}")
    info.size = len(payload)
    return info, payload


def write_tar(job: StagingJob, data_files: Sequence[str]) -> None:
    """``tar chf <id>.tar ./`` of the export directory, then delete the data files (as JSOC)."""
    tar_path = job.local_dir.parent / f"{job.requestid}.tar"
    with tarfile.open(tar_path, "w", format=tarfile.GNU_FORMAT) as tar:
        tar.add(job.local_dir, arcname=".", recursive=False)
        for path in sorted(job.local_dir.iterdir()):
            tar.add(path, arcname=f"./{path.name}", recursive=True)
        for kind in job.faults.unsafe_tar:
            info, payload = _unsafe_member(kind)
            tar.addfile(info, None if payload is None else io.BytesIO(payload))
    for name in set(data_files):
        (job.local_dir / name).unlink(missing_ok=True)
    tar_path.replace(job.local_dir / f"{job.requestid}.tar")


def stage_export(job: StagingJob) -> StagingResult:
    """
    Make every file of an export in ``job.local_dir``.

    Raises
    ------
    StagingError
        For a failure JSOC would report with status 4 (unsupported protocol, a processing or
        file-name error, an injected fault).
    """
    kind = protocol_kind(job.protocol)
    if kind not in ("as-is", "fits", *IMAGE_PROTOCOLS):
        raise StagingError(f"Invalid protocol '{job.protocol}'.")
    try:
        items = build_items(job.records)
        context = StepContext(job.requestid, job.catalogue, job.chain.text, job.image_size, job.dataset)
        items = run_steps(job.chain, items, context)
        if kind in IMAGE_PROTOCOLS:
            rows, nbytes = write_image_files(job.protocol, items, context, job.local_dir)
        else:
            rows, nbytes = _write_files(job, items)
    except (ProcessError, FilenameError) as err:
        raise StagingError(str(err)) from err
    if kind == "as-is":
        write_keywords_txt(job, items)
    index = write_index(job, rows, nbytes)
    if "-tar" in job.method:
        write_tar(job, [f for _, f in rows])
    return StagingResult(job.sums_dir, index, rows, nbytes)
