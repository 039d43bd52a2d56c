"""Where the emulator keeps files: export storage units and stored (SUMS) segment files.

Every file is addressed by its JSOC path (``/SUM66/D1278070722/S00000/<name>``) and lives at
``<root>/SUM66/D1278070722/S00000/<name>``. Export directories are ``/SUM6<k>/D<sunum>/S00000``
with ``sunum = EXPORT_SUNUM_BASE + serial``; they never collide with the catalogue's stored
files (``/SUM1`` .. ``/SUM20``). Stored files (what ``url_quick``/``as-is`` exports point at)
are made on first access from the catalogue (`FileStore.locate`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

from sunpy import log

from sunpy_jsoc_cutout.testing.sun.fitsfiles import make_segment_file

__all__ = ["EXPORT_SUNUM_BASE", "ExportPathError", "FileStore", "export_file_path"]

EXPORT_SUNUM_BASE = 1_278_070_000
_SUMS_PATH = re.compile(r"^/?(SUM\d+)/(D\d+)/(S\d+)(?:/(.*))?$")


class ExportPathError(ValueError):
    """An export file name that cannot be written inside its export directory."""


def export_file_path(local_dir: str | os.PathLike, name: str) -> Path:
    """
    Where an export file named ``name`` (made from ``filenamefmt``) is written, never outside
    ``local_dir``.

    ``jsoc_export_as_fits.c`` (line 338) writes to ``"%s/%s" % (outpath, name)`` and lists
    ``basename`` of that path in the index (``fitsexport.c`` line 2419): a leading ``/`` or
    ``./`` stays inside the export directory, and a name in a subdirectory fails because
    CFITSIO creates no directories. JSOC would write a ``..`` name beside its export directory;
    the emulator refuses it instead, so no request can touch a file outside its root.

    Raises
    ------
    ExportPathError
        For an empty name, a ``..`` component, a NUL byte, or a directory that does not exist.
    """
    local_dir = Path(local_dir)
    parts = [part for part in str(name).split("/") if part not in ("", ".")]
    if not parts or ".." in parts or "\x00" in str(name):
        raise ExportPathError(f"export file name {name!r} does not name a file inside the export directory")
    path = local_dir.joinpath(*parts)
    if not path.parent.is_dir() or not path.parent.resolve().is_relative_to(local_dir.resolve()):
        raise ExportPathError(f"export file name {name!r} is in a directory that does not exist")
    return path


class FileStore:
    """
    The emulator's file storage.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Directory holding all files; a new temporary directory (removed by `cleanup`) if
        omitted.
    image_size : int
        Full-disk images are rendered at ``image_size`` x ``image_size`` pixels (4096 as
        JSOC; 1024 or less for fast tests).
    catalogue : Catalogue, optional
        Used by `locate` to make stored segment files on demand.
    """

    def __init__(self, root: str | os.PathLike | None = None, image_size: int = 4096, catalogue=None):
        self._owned = root is None
        self.root = Path(tempfile.mkdtemp(prefix="jsoc_emulator_") if root is None else root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.image_size = int(image_size)
        self.catalogue = catalogue
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<FileStore {self.root} image_size={self.image_size}>"

    def cleanup(self) -> None:
        """Remove the root directory if this store created it."""
        if self._owned:
            shutil.rmtree(self.root, ignore_errors=True)

    # ------------------------------------------------------------------ paths
    def local_path(self, sums_path: str) -> Path | None:
        """
        The local path of a JSOC path, or None if it is not a safe ``/SUMn/Dn/Sn[/...]`` path.

        Parameters
        ----------
        sums_path : str
            E.g. ``/SUM66/D1278070722/S00000/index.json``.
        """
        match = _SUMS_PATH.match(sums_path or "")
        if match is None:
            return None
        rest = match.group(4) or ""
        parts = [p for p in rest.split("/") if p]
        if any(p in (".", "..") or "\\" in p for p in parts):
            return None
        return self.root.joinpath(match.group(1), match.group(2), match.group(3), *parts)

    @staticmethod
    def export_dir_name(serial: int) -> str:
        """JSOC path of the export storage unit of the request with this serial number."""
        sunum = EXPORT_SUNUM_BASE + int(serial)
        return f"/SUM{60 + sunum % 10}/D{sunum}/S00000"

    def new_export_dir(self, serial: int) -> tuple[str, Path]:
        """Create (empty) the export directory of request ``serial``; return its JSOC and local paths."""
        sums_dir = self.export_dir_name(serial)
        local = self.local_path(sums_dir)
        assert local is not None, "export_dir_name makes a /SUMn/Dn/Sn path"
        if local.exists():
            shutil.rmtree(local)
        local.mkdir(parents=True)
        return sums_dir, local

    def remove_dir(self, sums_dir: str) -> bool:
        """Delete an export directory (expiry); return whether it existed."""
        local = self.local_path(sums_dir)
        if local is None or not local.is_dir():
            return False
        shutil.rmtree(local, ignore_errors=True)
        return True

    # ------------------------------------------------------------------ serving
    def locate(self, url_path: str) -> Path | None:
        """
        The local file to serve for a download path, or None (404).

        Export files are served if they exist; stored segment files are made from the
        catalogue on first access.
        """
        local = self.local_path(url_path)
        if local is None:
            return None
        if local.is_file():
            return local
        if self.catalogue is None or local.exists():
            return None
        return self._make_stored(url_path, local)

    def _make_stored(self, sums_path: str, local: Path) -> Path | None:
        resolve = getattr(self.catalogue, "resolve_sums_path", None)
        if resolve is None:
            return None
        try:
            found = resolve("/" + sums_path.lstrip("/"))
        except (KeyError, ValueError, LookupError):
            return None
        if not found:
            return None
        records, i, segment = found if len(found) == 3 else (found[0], 0, found[1])
        sdef = records.series.segment(segment) if isinstance(segment, str) else segment
        if sdef is None:
            return None
        with self._lock:
            if not local.is_file():
                local.parent.mkdir(parents=True, exist_ok=True)
                tmp = local.with_name(local.name + ".part")
                make_segment_file(tmp, records.header(i), sdef, size=self.image_size, keywords=False)
                tmp.replace(local)
                log.debug("made stored file %s", sums_path)
        return local
