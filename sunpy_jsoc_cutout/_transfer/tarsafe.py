"""
Safe extraction of the tar files of ``url-tar`` exports.

JSOC builds an ``url-tar`` export with ``tar chf`` of the export directory, so an honest tar
holds only the ``./`` directory, regular files and perhaps sub-directories. `safe_extract`
checks **every** member before writing anything and refuses the whole archive if one member
could write outside the destination: an absolute name, a ``..`` component, a symbolic or hard
link, a device, a pipe, or a name that resolves (through a symbolic link already inside the
destination) to somewhere else. Each extracted file is written to a temporary name in its
final directory and renamed when complete, so a file never holds half its contents under its
final name.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tarfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from sunpy import log

from sunpy_jsoc_cutout.exceptions import UnsafeArchiveError

__all__ = ["safe_extract"]


def _member_problem(member: tarfile.TarInfo) -> str | None:
    """Why a member's name or type is unsafe, or `None`."""
    name = member.name
    if not (member.isreg() or member.isdir()):
        kind = "a symbolic link" if member.issym() else "a hard link" if member.islnk() else "a special file"
        return f"it is {kind}"
    if name.startswith(("/", "\\")) or PureWindowsPath(name).drive or PureWindowsPath(name).root:
        return "its name is absolute"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "its name contains '..'"
    return None


def _checked_targets(members: list[tarfile.TarInfo], dest: Path) -> list[tuple[tarfile.TarInfo, Path]]:
    """Each member with its resolved target inside ``dest``; raise for the first unsafe member."""
    root = dest.resolve()
    targets = []
    for member in members:
        problem = _member_problem(member)
        target = (root / member.name).resolve()
        if problem is None and root not in target.parents and not (member.isdir() and target == root):
            problem = "it resolves outside the destination"
        if problem is not None:
            raise UnsafeArchiveError(
                f"Refusing to extract the tar file: member {member.name!r} is unsafe because {problem}. "
                f"Nothing was extracted to {dest}."
            )
        targets.append((member, target))
    return targets


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    """Write one regular member to a temporary file beside ``target``, then rename it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    if source is None:  # pragma: no cover (isreg members always have a file object)
        raise UnsafeArchiveError(f"Cannot read tar member {member.name!r}.")
    # not mkstemp: its 0600 would stay on the extracted file; this one gets the umask like any download
    temp_name = target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
    handle = os.open(temp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(handle, "wb") as out, source:
            shutil.copyfileobj(source, out, 1 << 20)
        Path(temp_name).replace(target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def safe_extract(tar_path: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """
    Extract a tar file into ``dest``, refusing any member that could write outside it.

    Parameters
    ----------
    tar_path : `str` or `os.PathLike`
        The tar file (compressed or not).
    dest : `str` or `os.PathLike`
        The directory to extract into; created if missing.

    Returns
    -------
    `list` of `pathlib.Path`
        The regular files extracted, in archive order (directories are created but not listed).

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.UnsafeArchiveError
        If any member has an absolute name or a ``..`` component, is a symbolic or hard link, a
        device or a pipe, or resolves outside ``dest``. All members are checked before anything
        is written, so nothing is extracted from an unsafe archive.
    tarfile.TarError
        If the file is not a readable tar file.
    """
    dest = Path(dest)
    with tarfile.open(tar_path) as tar:
        members = tar.getmembers()
        targets = _checked_targets(members, dest)
        dest.mkdir(parents=True, exist_ok=True)
        extracted = []
        for member, target in targets:
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            _write_member(tar, member, target)
            extracted.append(target)
    log.debug("Extracted %s files from %s into %s", len(extracted), tar_path, dest)
    return extracted
