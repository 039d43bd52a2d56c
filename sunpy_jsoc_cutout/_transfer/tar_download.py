"""
``url-tar`` exports: download the tar as one file of the request (claimed, verified, recorded like
any other), check it member by member, unpack it safely and move its data files to their final
paths.

The tar is verified before anything is extracted (`~._transfer.verify.verify_tar`: its structure and
the FITS checks of its members); a tar that fails is downloaded once
more, then reported. An unsafe tar raises `~sunpy_jsoc_cutout.exceptions.UnsafeArchiveError`
(nothing is extracted). A full disk or an unwritable folder while unpacking gives an error entry
for each data file not yet in place, and a member whose final path holds another record's file
is not moved there (`~._transfer.overwrite`: an error entry with
`~sunpy_jsoc_cutout.exceptions.FileOverwriteError`). Every error entry of a tar's files names the tar's
``.unverified`` path (`~._transfer.writer.unverified_path`): a retry of them by another downloader
(``Fido.fetch(files)``) fetches the tar there, never a tar under a data file's final name, and
the next fetch through the client verifies that tar and unpacks it instead of downloading it.
"""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import parfive

from sunpy import log

from sunpy_jsoc_cutout.exceptions import CorruptFileError, DiskSpaceError, FileOverwriteError
from .batches import FileBatches
from .file_moves import QueuedFile, promote, reuse_done_file
from .session import fixed_path
from .tarsafe import safe_extract
from .verify import verify_tar
from .writer import unverified_path, write_error

__all__ = ["download_tar"]


def download_tar(session, ledger, requestid, tar_file, rows, path_for, tar_dir: Path, keep_tar, report):
    """Download, check and unpack an export's tar; move its data files to their final paths."""
    tar_url = tar_file[2]
    ledger.add_files(requestid, [(record, name, tar_url) for record, name in rows])
    finals = {name: Path(path_for(record, name)).expanduser().absolute() for record, name in rows}
    done = {name: finals[name] if reuse_done_file(ledger, requestid, name, finals[name]) else None for name in finals}
    out = parfive.Results()
    if rows and all(done.values()):
        for path in done.values():
            out.append(path=str(path), url=tar_url)
        return out
    ledger.add_files(requestid, [tar_file])
    batches = FileBatches(session, ledger, requestid, verify=verify_tar)
    fetched = batches.run([tar_file], lambda record, name: tar_dir / name)
    if fetched.errors or not len(fetched):
        return fetched
    tar_path = Path(fetched[0])
    scratch = tar_dir / f".{requestid}.extract"
    try:
        with session.guard.deferred():
            _unpack(session, ledger, requestid, tar_path, scratch, rows, finals, done, tar_url, out, report)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not keep_tar:
            tar_path.unlink(missing_ok=True)
    return out


def _unpack(session, ledger, requestid, tar_path, scratch, rows, finals, done, tar_url, out, report) -> None:
    tar_name = tar_path.name
    try:
        members = {path.name: path for path in safe_extract(tar_path, scratch)}
    except (OSError, tarfile.TarError) as err:
        failure: Exception
        if isinstance(err, tarfile.TarError):
            failure = CorruptFileError(f"The tar file {tar_name} of JSOC request {requestid} cannot be read: {err}")
        else:
            failure = write_error(err, scratch / "member")
        _fail_rest(session, rows, done, tar_url, unverified_path(tar_path), out, failure)
        return
    for record, name in rows:
        path = done[name]
        if path is None and name in members:
            try:
                path = promote(QueuedFile(requestid, record, name, tar_url, finals[name], members[name]), ledger)
            except FileOverwriteError as err:
                log.warning("%s", err)
                _fail(session, out, unverified_path(tar_path), tar_url, err)
                continue
            except OSError as err:
                _fail(session, out, unverified_path(tar_path), tar_url, write_error(err, finals[name]))
                continue
        elif path is None:
            log.warning("Request %s: %s is not in its tar file %s", requestid, name, tar_name)
            if report is not None:
                report.missing_file(requestid, record, name, f"not in the tar file {tar_name}")
            continue
        out.append(path=str(path), url=tar_url)


def _fail(session, out, target, url, failure) -> None:
    out.add_error(lambda resp, url, target=target: fixed_path(target, resp, url), url, failure)
    if isinstance(failure, DiskSpaceError) and session.disk_full is None:
        session.disk_full = failure
        log.warning("%s No further file is downloaded in this fetch.", failure)


def _fail_rest(session, rows, done, url, target, out, failure) -> None:
    for _, name in rows:
        if done[name] is None:
            _fail(session, out, target, url, failure)
        else:
            out.append(path=str(done[name]), url=url)
