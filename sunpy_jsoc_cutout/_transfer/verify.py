"""
Checks of a downloaded file against what JSOC provides, before it takes its final name.

* **Size.** JSOC's ``index.json`` lists no per-file sizes (only the export's total, in MB); each
  file's ``Content-Length`` is checked by the HTTP client (a short body fails the download).
* **FITS structure.** A FITS file is whole 2880-byte blocks, and its HDUs (header up to ``END``,
  then the data the header announces, padded to a block) fill it exactly.
* **FITS checksums.** Where an HDU carries ``CHECKSUM`` (the 32-bit ones'-complement sum of the
  HDU is then -0) or ``DATASUM`` (the sum of its data), they are recomputed from the bytes as
  stored, as cfitsio's ``fits_verify_chksum`` and astropy's ``verify_checksum`` do; for a
  tile-compressed image that is the binary table JSOC wrote. A file without them can only be
  checked for its structure: same-length corruption of its data cannot be seen.
* **Tar structure.** Every header block's own checksum (``tarfile`` stops at the first bad one),
  nothing but zero blocks after the last member, and the FITS checks of every member.

`verify_file` and `verify_tar` return `None` for a good file, else why not (the caller downloads
the file once more, then reports it as `~sunpy_jsoc_cutout.exceptions.CorruptFileError`).
"""

from __future__ import annotations

import math
import os
import tarfile
from pathlib import Path

import numpy as np

__all__ = ["FITS_BLOCK", "ones_complement_sum", "verify_file", "verify_fits", "verify_fits_bytes", "verify_tar"]

#: The FITS block size in bytes.
FITS_BLOCK = 2880
_CARD = 80
_NEGATIVE_ZERO = 0xFFFFFFFF


def ones_complement_sum(buffer) -> int:
    """The 32-bit ones'-complement sum of big-endian words (FITS's checksum arithmetic)."""
    words = np.frombuffer(buffer, dtype=">u4")
    total = int(words.sum(dtype=np.uint64)) if words.size else 0
    while total >> 32:
        total = (total & 0xFFFFFFFF) + (total >> 32)
    return total


def _value(card: str) -> str:
    """The value field of a header card: a string without its quotes, else the text before ``/``."""
    text = card[10:].strip() if card[8:10] == "= " else ""
    if text.startswith("'"):
        end = text.find("'", 1)
        while end != -1 and text[end : end + 2] == "''":
            end = text.find("'", end + 2)
        return text[1 : end if end != -1 else None].replace("''", "'").strip()
    return text.split("/", 1)[0].strip()


def _header(data: memoryview, start: int) -> tuple[dict[str, str], int] | None:
    """The keywords of the header at ``start`` and where its data begin, or `None` without ``END``."""
    keys: dict[str, str] = {}
    offset = start
    while offset + FITS_BLOCK <= len(data):
        block = bytes(data[offset : offset + FITS_BLOCK]).decode("ascii", "replace")
        offset += FITS_BLOCK
        for i in range(0, FITS_BLOCK, _CARD):
            card = block[i : i + _CARD]
            name = card[:8].strip()
            if name == "END":
                return keys, offset
            if name and name not in keys:
                keys[name] = _value(card)
    return None


def _data_size(keys: dict[str, str]) -> int:
    """The data bytes an HDU's header announces (FITS standard, section 4.4.1)."""
    naxis = int(keys.get("NAXIS", "0"))
    if naxis == 0:
        return 0
    axes = [int(keys.get(f"NAXIS{i}", "0")) for i in range(1, naxis + 1)]
    if keys.get("SIMPLE") and keys.get("GROUPS") == "T" and axes[0] == 0:
        axes = axes[1:]  # random groups
    bits = abs(int(keys.get("BITPIX", "8")))
    return bits // 8 * int(keys.get("GCOUNT", "1")) * (int(keys.get("PCOUNT", "0")) + math.prod(axes))


def verify_fits(path: str | os.PathLike) -> str | None:
    """`None` if the FITS file at ``path`` is whole and its checksums match, else why not."""
    return verify_fits_bytes(Path(path).read_bytes())


def verify_fits_bytes(raw: bytes) -> str | None:
    """`verify_fits` of a file's contents."""
    data = memoryview(raw)
    if len(raw) % FITS_BLOCK:
        return f"its size ({len(raw)} bytes) is not a whole number of {FITS_BLOCK}-byte FITS blocks"
    offset, index = 0, 0
    while offset < len(raw):
        if not raw[offset : offset + 8].strip(b"\0"):
            break  # zero fill after the last HDU
        try:
            parsed = _header(data, offset)
            size = None if parsed is None else _data_size(parsed[0])
        except ValueError as err:
            return f"HDU {index} has an unreadable header ({err})"
        if parsed is None:
            return f"HDU {index} has no END card"
        keys, start = parsed
        assert size is not None  # a parsed header has a data size
        end = start + math.ceil(size / FITS_BLOCK) * FITS_BLOCK
        if end > len(raw):
            return f"HDU {index} announces {size} data bytes but the file ends {end - len(raw)} bytes short"
        if "DATASUM" in keys and keys["DATASUM"].isdigit():
            found = ones_complement_sum(data[start:end])
            if found != int(keys["DATASUM"]):
                return f"the data of HDU {index} do not match its DATASUM ({keys['DATASUM']}, the data sum to {found})"
        if "CHECKSUM" in keys and ones_complement_sum(data[offset:end]) != _NEGATIVE_ZERO:
            return f"HDU {index} does not match its CHECKSUM"
        offset, index = end, index + 1
    return None


def verify_file(path: str | os.PathLike) -> str | None:
    """`None` if a downloaded file passes the checks its kind allows (FITS: `verify_fits`), else why not."""
    with open(path, "rb") as handle:
        head = handle.read(10)
    if head.startswith(b"SIMPLE  ="):
        return verify_fits(path)
    return None


def verify_tar(path: str | os.PathLike) -> str | None:
    """
    `None` if the tar file at ``path`` is whole (every header block matches its checksum and
    nothing but zero blocks follows the last member) and its FITS members pass
    `verify_fits_bytes`, else why not. Files JSOC listed but absent from a whole tar are not
    corruption (downloading it again would not bring them); the caller reports them.
    """
    try:
        with tarfile.open(path) as tar:
            members = tar.getmembers()
            end = tar.offset
            plain = type(tar.fileobj).__name__ == "BufferedReader"
            for member in members:
                source = tar.extractfile(member) if member.isreg() else None
                head = source.read(10) if source is not None else b""
                if source is not None and head.startswith(b"SIMPLE  ="):
                    problem = verify_fits_bytes(head + source.read())
                    if problem:
                        return f"its member {member.name} is corrupt: {problem}"
    except (tarfile.TarError, EOFError, OSError) as err:
        return f"it is not a readable tar file ({str(err).splitlines()[-1]})"
    rest = b""
    if plain:  # an uncompressed tar (JSOC's): nothing but zero blocks may follow the last member
        with open(path, "rb") as handle:
            handle.seek(end)
            rest = handle.read()
    if rest.strip(b"\0"):
        return f"its structure breaks after {len(members)} members (a header block does not match its checksum)"
    return None
