"""
Files of an export between parfive and their final names: the ledger entries, the partial names,
the rename and the copy of a file the ledger holds elsewhere.

A file is written under a partial name of its own (`~._transfer.writer.partial_path`,
``<final name>.<pid>-<random>.part``), hashed (sha256), renamed with `os.replace` to its final
name and only then marked done in the ledger (`promote`), so a file under its final name is
always whole and the ledger only calls a file done once it is. A file the ledger holds complete,
in this request or in an earlier request of the same plan (an export that expired and was staged
again), is used where it is or copied to its new final path (`reuse_done_file`), not downloaded.

A file never replaces a file of another record (or the same record processed differently) at its
final path: `promote` and the copy of `reuse_done_file` ask `~._transfer.overwrite.check_overwrite`
first, which raises `~sunpy_jsoc_cutout.exceptions.FileOverwriteError`; the caller makes it the
file's error entry.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sunpy import log

from sunpy_jsoc_cutout._jsoc.export_files import file_hash
from .ledger import Ledger
from .overwrite import check_overwrite, replaced_by_other
from .writer import partial_path

__all__ = [
    "PathFor",
    "QueuedFile",
    "promote",
    "reuse_done_file",
]

#: Maps (record, filename) to the final path of a file.
PathFor = Callable[[str, str], "str | os.PathLike"]


@dataclass(frozen=True)
class QueuedFile:
    """A downloaded file on its way: its partial name and where it ends up."""

    requestid: str
    record: str
    filename: str
    url: str
    final: Path
    partial: Path


def reuse_done_file(ledger: Ledger, requestid: str, filename: str, final: Path) -> bool:
    """
    Whether the ledger's complete copy of a file can stand for it at ``final``.

    The copy is the ledger's entry of this request, or else of an earlier request of the same
    plan (`~._transfer.ledger.Ledger.done_in_plan`). A copy already at ``final`` is used as it is. A copy
    elsewhere (fetched before with another ``path`` template) is copied to ``final`` through a partial name, after its sha256 was checked
    against the ledger's, and the ledger then holds it at ``final``; a copy that changed on disk
    is not used (the file is downloaded again).
    """
    entry = ledger.done_file(requestid, filename) or ledger.done_in_plan(requestid, filename)
    if entry is None or entry.path is None or entry.size is None or entry.sha256 is None:
        return False
    known = Path(entry.path).expanduser().absolute()
    if known == final:
        if replaced_by_other(ledger, requestid, entry.record, final, entry.sha256):
            log.info("%s now holds another file than %s of request %s", final, filename, entry.requestid)
            return False
        if entry.requestid != requestid:
            ledger.mark_done(requestid, filename, str(final), int(entry.size), entry.sha256)
        return True
    try:
        if file_hash(known) != entry.sha256:
            log.info("%s changed since it was downloaded; downloading %s again", known, filename)
            return False
        check_overwrite(ledger, requestid, entry.record, final, known)
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = partial_path(final)
        try:
            shutil.copyfile(known, staging)
            staging.replace(final)
        finally:
            staging.unlink(missing_ok=True)
    except OSError as err:  # a FileOverwriteError too: the download is then refused the same way
        log.info("Could not copy %s to %s (%s); downloading it again", known, final, err)
        return False
    ledger.mark_done(requestid, filename, str(final), int(entry.size), entry.sha256)
    log.debug("Request %s: %s copied from %s", requestid, final, known)
    return True


def promote(item: QueuedFile, ledger: Ledger) -> Path:
    """
    Hash a complete partial file, rename it to its final name and mark it done.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.FileOverwriteError
        If the final path holds another record's file (`~._transfer.overwrite.check_overwrite`);
        nothing is moved.
    """
    check_overwrite(ledger, item.requestid, item.record, item.final, item.partial)
    size = item.partial.stat().st_size
    digest = file_hash(item.partial)
    item.final.parent.mkdir(parents=True, exist_ok=True)
    try:
        item.partial.replace(item.final)
    except OSError as err:
        if err.errno != errno.EXDEV:
            raise
        # another file system (a tar member moving out of the scratch directory): copy to a
        # partial name there first, so the final name still only ever holds a complete file
        staging = partial_path(item.final)
        try:
            shutil.copyfile(item.partial, staging)
            staging.replace(item.final)
        finally:
            staging.unlink(missing_ok=True)
        item.partial.unlink()
    ledger.mark_done(item.requestid, item.filename, str(item.final), size, digest)
    return item.final
