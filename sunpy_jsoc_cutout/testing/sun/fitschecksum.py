"""FITS ``CHECKSUM``/``DATASUM`` as JSOC's files carry them.

Every FITS file JSOC writes is closed through DRMS's cached-fitsfile code, which calls CFITSIO's
``fits_write_chksum`` on the file's *current* HDU (``lm-jps/drms``:
``base/libs/fitsrw/tasrw.c`` ``fitsrw_closefptr``, "we are closing a file, so write its
checksum", line 1137; reached from ``cfitsio_close_file`` -> ``Cf_close_file``,
``base/libs/fitsrw/cfitsio.c`` lines 254-268, for exported files created by
``fitsexport_mapexport_tofile2``, ``base/export/libs/exportDRMS/fitsexport.c`` lines 2106 and
2174, called from ``jsoc_export_as_fits.c`` line 365; stored files are written by ``fitsrw_write3``,
``cfitsio.c`` line 5797, the same way). The current HDU at close is the image: the only HDU of
an uncompressed file, the compressed-image extension of a Rice file, whose empty primary HDU
therefore carries no checksum. Real exported headers show the cards right after the structural
keywords, with CFITSIO's comments (``sunpy/data/test/hmi_sharp_magnetogram.header`` lines 9-10):

.. code-block:: text

    CHECKSUM= 'aAFHd3CHa9CHa9CH'   / HDU checksum updated 2024-08-02T19:29:45
    DATASUM = '1263518193'         / data unit checksum updated 2024-08-02T03:26:19

`add_checksum` does the same to a FITS byte string: ``DATASUM`` is the 32-bit ones' complement
sum of the data unit, ``CHECKSUM`` the ASCII encoding of the complement of the HDU's sum (FITS
Checksum Convention, as CFITSIO's ``ffpcks``/``ffesum``), so the whole HDU sums to -0.
"""

from __future__ import annotations

import re

import numpy as np

from astropy.io import fits

__all__ = ["add_checksum", "encode_checksum", "ones_complement_sum"]

BLOCK = 2880
CARD = 80
_LEADING = re.compile(
    r"^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|EXTEND|PCOUNT|GCOUNT|TFIELDS|T(TYPE|FORM)\d+|Z[A-Z0-9_]*|EXTNAME"
    r"|BSCALE|BZERO|BLANK)$"
)
_EXCLUDE = set(range(0x3A, 0x41)) | set(range(0x5B, 0x61))


def ones_complement_sum(data: bytes, start: int = 0) -> int:
    """The 32-bit ones' complement sum of ``data`` (a multiple of 4 bytes), added to ``start``."""
    total = int(np.frombuffer(data, dtype=">u4").astype(np.uint64).sum()) + start
    while total >> 32:
        total = (total & 0xFFFFFFFF) + (total >> 32)
    return total


def encode_checksum(value: int) -> str:
    """The 16-character ``CHECKSUM`` string of the complement of ``value`` (CFITSIO's ``ffesum``)."""
    value = ~value & 0xFFFFFFFF
    out = [0] * 16
    for i in range(4):
        byte = (value >> (24 - 8 * i)) & 0xFF
        chars = [byte // 4 + 0x30] * 4
        chars[0] += byte % 4
        changed = True
        while changed:
            changed = False
            for j in (0, 2):
                if chars[j] in _EXCLUDE or chars[j + 1] in _EXCLUDE:
                    chars[j] += 1
                    chars[j + 1] -= 1
                    changed = True
        for j in range(4):
            out[4 * j + i] = chars[j]
    return bytes(out[15:] + out[:15]).decode("ascii")


def _value(card: str) -> int:
    return int(card[10:].split("/", maxsplit=1)[0].strip().strip("'").strip() or 0)


def _hdus(data: bytes) -> list[tuple[int, int, int]]:
    """``(start, header_bytes, data_bytes_padded)`` of every HDU."""
    hdus, pos = [], 0
    while pos < len(data):
        cards, end = {}, pos
        while True:
            block = data[end : end + BLOCK]
            if len(block) < BLOCK:
                raise ValueError("truncated FITS header")
            end += BLOCK
            texts = [block[k : k + CARD].decode("ascii") for k in range(0, BLOCK, CARD)]
            cards.update({t[:8].strip(): t for t in texts if t[8:10] == "= "})
            if any(t.startswith("END     ") or t.rstrip() == "END" for t in texts):
                break
        bitpix = abs(_value(cards["BITPIX"]))
        naxis = _value(cards["NAXIS"])
        pixels = int(np.prod([_value(cards[f"NAXIS{k}"]) for k in range(1, naxis + 1)])) if naxis else 0
        pcount = _value(cards["PCOUNT"]) if "PCOUNT" in cards else 0
        gcount = _value(cards["GCOUNT"]) if "GCOUNT" in cards else 1
        size = bitpix // 8 * gcount * (pcount + pixels) if naxis else 0
        padded = -(-size // BLOCK) * BLOCK
        hdus.append((pos, end - pos, padded))
        pos = end + padded
    return hdus


def add_checksum(data: bytes, when: str | None = None) -> bytes:
    """
    ``data`` (a whole FITS file) with ``DATASUM`` and ``CHECKSUM`` in its last HDU, as JSOC has.

    Parameters
    ----------
    data : bytes
        The FITS file; any ``CHECKSUM``/``DATASUM`` card of the last HDU is replaced.
    when : str, optional
        ``YYYY-MM-DDThh:mm:ss`` for the cards' comments (CFITSIO writes the time of writing).

    Returns
    -------
    bytes
    """
    start, header_bytes, data_bytes = _hdus(data)[-1]
    body = data[start + header_bytes : start + header_bytes + data_bytes]
    texts = [data[k : k + CARD].decode("ascii") for k in range(start, start + header_bytes, CARD)]
    end = next(i for i, t in enumerate(texts) if t.rstrip() == "END")
    cards = [t for t in texts[:end] if t[:8].strip() not in ("CHECKSUM", "DATASUM")]
    pos = 0
    while pos < len(cards) and _LEADING.match(cards[pos][:8].strip()):
        pos += 1
    suffix = f" {when}" if when else ""
    comment = f"HDU checksum updated{suffix}"
    datasum = ones_complement_sum(body)
    chk = fits.Card("CHECKSUM", "0" * 16, comment).image
    dsum = fits.Card("DATASUM", str(datasum), f"data unit checksum updated{suffix}").image
    cards[pos:pos] = [chk, dsum]
    text = "".join(cards) + "END".ljust(CARD)
    text += " " * (-len(text) % BLOCK)
    header = text.encode("ascii")
    encoded = encode_checksum(ones_complement_sum(header, datasum))
    header = header.replace(chk.encode("ascii"), fits.Card("CHECKSUM", encoded, comment).image.encode(), 1)
    return data[:start] + header + body + data[start + header_bytes + data_bytes :]
