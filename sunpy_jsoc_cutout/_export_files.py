"""
The files of a completed JSOC export: their URLs (as drms builds them), their data rows, hashes,
and the free-disk-space check made before downloading.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from .exceptions import DiskSpaceError

__all__ = ["NO_DATA_FILE", "check_free_space", "data_rows", "file_hash", "file_urls"]

#: What JSOC lists for a record whose file does not exist (dropped, as drms does).
NO_DATA_FILE = "NoDataFile"


def file_urls(index: Mapping[str, Any], base_url: str) -> list[tuple[str, str, str]]:
    """
    The ``(record, filename, url)`` of each file of a completed export, as drms builds them.

    Parameters
    ----------
    index : `~collections.abc.Mapping`
        The reply of ``exp_status`` for a completed request (JSOC's ``index.json``).
    base_url : `str`
        The server's download base URL (drms's ``http_download_baseurl``,
        ``http://jsoc.stanford.edu/`` for JSOC).

    Returns
    -------
    `list` of `tuple`
        For an ``url-tar`` export, one entry ``("", "<requestid>.tar", url)``. Otherwise one per
        data row with a file (rows listed as ``NoDataFile`` are dropped); the record is ``""``
        for a movie row. URLs are ``base_url + dir + "/" + filename``, or ``base_url +
        filename`` when ``dir`` is empty (``url_quick``, whose filenames are full paths).

    Raises
    ------
    ValueError
        If the export method is not downloadable over http (not ``url...``).
    """
    method = str(index.get("method", "url"))
    if not method.startswith("url"):
        raise ValueError(f"Files of an export with method {method!r} cannot be downloaded over http.")
    if not base_url.endswith("/"):
        base_url += "/"
    tarfile = index.get("tarfile") or ""
    directory = "" if tarfile else str(index.get("dir") or "")
    rows = (
        [("", tarfile)]
        if tarfile
        else [(row.get("record") or "", row.get("filename") or "") for row in index.get("data") or []]
    )
    movie = str(index.get("protocol", "")).lower() in ("mpg", "mp4")
    files = []
    for record, name in rows:
        if not name or name == NO_DATA_FILE:
            continue
        if movie and record.startswith("movie"):
            record = ""
        fpath = f"{directory}/{name}" if directory else name
        files.append((record, name.rsplit("/", 1)[-1], urljoin(base_url, fpath.lstrip("/"))))
    return files


def file_hash(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file's contents."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(partial(handle.read, 1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_free_space(path: str | os.PathLike, needed_bytes: int) -> int:
    """
    Check that the file system holding ``path`` has ``needed_bytes`` free.

    Parameters
    ----------
    path : `str` or `os.PathLike`
        The download directory (it need not exist yet: its nearest existing parent is checked).
    needed_bytes : `int`
        The bytes the downloads need (e.g. the exports' size estimate).

    Returns
    -------
    `int`
        The free bytes.

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.DiskSpaceError
        If fewer than ``needed_bytes`` are free; the message names both numbers.
    """
    where = Path(path).expanduser().absolute()
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    if needed_bytes > free:
        raise DiskSpaceError(
            f"Not enough free disk space in {where}: the download needs {needed_bytes} bytes "
            f"({needed_bytes / 1e6:.1f} MB) but only {free} bytes ({free / 1e6:.1f} MB) are free.",
            needed=int(needed_bytes),
            free=int(free),
        )
    return free


def data_rows(index: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """The ``(record, filename)`` rows of an export with a file, and the records without one."""
    rows, missing = [], []
    for row in index.get("data") or []:
        record, name = row.get("record") or "", row.get("filename") or ""
        if name == NO_DATA_FILE:
            missing.append(record)
        elif name:
            rows.append((record, name.rsplit("/", 1)[-1]))
    return rows, missing
