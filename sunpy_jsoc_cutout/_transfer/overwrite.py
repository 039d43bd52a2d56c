"""
A file never replaces another record's file: the check made before a file takes its final name.

Different exports can give files the same final path (JSOC's default file names hold the record,
not the processing; a ``path`` template may drop what tells records apart). Within one
``Fido.fetch`` such rows are refused before anything is sent (`~._transfer.planned_paths`); this
module guards the files of *different* fetches.

Before a downloaded (or copied, or unpacked) file is renamed to a final path that already holds a
file, `check_overwrite` finds out what that file is:

* **the ledger** knows every file it moved there (`~._transfer.ledger.Ledger.done_at`): the entry
  whose sha256 is the file's on disk names its record and, through its request, the processing
  and protocol. The new file may replace it only if it is the same record exported the same way
  (a rerun, an expired export staged again, the same rows searched again);
* a file the ledger did not write (another ledger, an earlier run without one) is compared by its
  **FITS header** with the new file: `HEADER_KEYS` (time, wavelength, camera, the map's size and
  projection) that both have must agree.

Otherwise `~sunpy_jsoc_cutout.exceptions.FileOverwriteError` is raised: the caller turns it into
that file's error entry, and the file already there stays as it is. A file that is neither known
to the ledger nor FITS (a JPEG, a movie) is replaced as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from astropy.io import fits

from sunpy_jsoc_cutout._jsoc.export_files import file_hash
from sunpy_jsoc_cutout.exceptions import FileOverwriteError
from .ledger import FileEntry, Ledger

__all__ = ["HEADER_KEYS", "Content", "check_overwrite", "replaced_by_other"]

#: The FITS keywords that tell two cutout files of different records (or processing) apart.
HEADER_KEYS = ("T_REC", "WAVELNTH", "CAMERA", "NAXIS1", "NAXIS2", "CTYPE1", "CTYPE2")

#: What to do, for every refusal.
_ADVICE = (
    "The file there is kept as it is. Fetch into another folder, or use a path template with a field that "
    "tells the two apart (e.g. path='.../{wavelength}/{T_REC:%Y%m%d_%H%M%S}/{file}', or a folder per "
    "search), or move that file away and fetch again."
)


@dataclass(frozen=True)
class Content:
    """
    What a file holds: its record and how it was exported.

    ``process`` and ``protocol`` are `None` when the ledger does not know the request.
    """

    requestid: str
    record: str
    process: str | None = None
    protocol: str | None = None

    def same_as(self, other: Content) -> bool:
        """The same record exported the same way (what the ledger does not know is not compared)."""
        if self.record != other.record:
            return False
        if None in (self.process, other.process):
            return True
        return (self.process, self.protocol) == (other.process, other.protocol)

    def describe(self) -> str:
        return f"{self.record or 'the movie'} of JSOC request {self.requestid}"


def _content(entry: FileEntry, params: dict | None) -> Content:
    record = entry.record or str((params or {}).get("ds", ""))
    if params is None:
        return Content(entry.requestid, record)
    return Content(entry.requestid, record, str(params.get("process")), str(params.get("protocol")))


def content_of(ledger: Ledger, requestid: str, record: str) -> Content:
    """The `Content` of a file of ``requestid`` holding ``record``."""
    request = ledger.get(requestid)
    params = None if request is None else request.params
    return _content(FileEntry(requestid, record, "", "", None, None, None, False), params)


def _header_keys(path: Path) -> dict[str, str] | None:
    """`HEADER_KEYS` of the first HDU with ``T_REC`` (a tile-compressed image's too), `None` if not FITS."""
    try:
        with open(path, "rb") as handle:
            if not handle.read(9).startswith(b"SIMPLE  ="):
                return None
        with fits.open(path, memmap=False, lazy_load_hdus=True) as hdus:
            for hdu in hdus:
                if "T_REC" in hdu.header:
                    return {key: str(hdu.header[key]).strip() for key in HEADER_KEYS if key in hdu.header}
    except (OSError, ValueError, TypeError, IndexError, fits.VerifyError):
        return None
    return None


def _owner(ledger: Ledger, final: Path) -> tuple[FileEntry, dict | None] | None:
    """The ledger's entry of the file now at ``final`` (its sha256 matches), if any."""
    entries = ledger.done_at(final)
    if not entries:
        return None
    digest = file_hash(final)
    return next(((entry, params) for entry, params in entries if entry.sha256 == digest), None)


def check_overwrite(ledger: Ledger, requestid: str, record: str, final: Path, incoming: Path) -> None:
    """
    Refuse to replace the file at ``final`` with ``incoming`` if it holds other data (module notes).

    Parameters
    ----------
    ledger : `~._transfer.ledger.Ledger`
    requestid, record : str
        The request and record of the new file.
    final : `pathlib.Path`
        Where the new file is to go.
    incoming : `pathlib.Path`
        The new file (its partial name).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.FileOverwriteError
        If the file at ``final`` is another record's, or the same record exported differently.
    """
    if not final.is_file():
        return
    new = content_of(ledger, requestid, record)
    owner = _owner(ledger, final)
    if owner is not None:
        old = _content(*owner)
        if new.same_as(old):
            return
        how = "the same record processed differently" if old.record == new.record else "another record's data"
        message = (
            f"Not writing {final.name} ({new.describe()}) to {final}: the file there holds {how}, "
            f"{old.describe()} (the ledger {ledger.path} recorded it, sha256 {(owner[0].sha256 or '')[:12]}...). {_ADVICE}"
        )
        raise FileOverwriteError(message, str(final))
    differ = _header_differences(final, incoming)
    if differ:
        message = (
            f"Not writing {final.name} ({new.describe()}) to {final}: the FITS file there, which this ledger did "
            f"not write, holds other data ({differ}). {_ADVICE}"
        )
        raise FileOverwriteError(message, str(final))


def _header_differences(final: Path, incoming: Path) -> str:
    """The `HEADER_KEYS` whose values differ between two FITS files, as text (empty if none, or not FITS)."""
    before, after = _header_keys(final), _header_keys(incoming)
    if before is None or after is None:
        return ""
    return ", ".join(
        f"{key}={before[key]!r} there, {after[key]!r} in the new file"
        for key in sorted(before.keys() & after.keys())
        if before[key] != after[key]
    )


def replaced_by_other(ledger: Ledger, requestid: str, record: str, final: Path, sha256: str) -> bool:
    """
    Whether the ledger moved another file to ``final`` after the one with ``sha256`` and the file on
    disk is no longer that one (an earlier version of this package let fetches overwrite each other).

    Cheap when the ledger knows a single file at ``final``; hashes the file only otherwise.
    """
    entries = ledger.done_at(final)
    if len(entries) < 2:  # the ledger put only the file being reused there
        return False
    me = content_of(ledger, requestid, record)
    if all(me.same_as(_content(entry, params)) for entry, params in entries):
        return False
    try:
        return file_hash(final) != sha256
    except OSError:
        return True
