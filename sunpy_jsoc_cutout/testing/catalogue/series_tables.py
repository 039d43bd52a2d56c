"""Keyword tables of the emulated series, taken from JSOC's real series definitions.

Origin
------
``data/series_keywords.csv`` holds, for ``aia.lev1_euv_12s`` and ``hmi.M_45s``, the keyword
facts of the ``jsoc_info?op=series_struct`` replies that jsoc.stanford.edu sent on 2020-04-10,
as recorded by sunpy's test suite (``sunpy/sunpy@b361c0cd``,
``sunpy/net/jsoc/tests/cassettes/test_lookup_records_errors.yaml`` for ``aia.lev1_euv_12s`` and
``test_build_table.yaml`` for ``hmi.m_45s``): the keyword names in JSOC's order, their
``type``, ``recscope``, ``defval``, ``units`` and ``linkinfo``. JSOC's free-text notes are left
out. The segment, link and prime-key facts of those replies are in ``series.py``.

Derived series (no recording)
-----------------------------
``aia.lev1_uv_24s``, ``aia.lev1_vis_1h``
    ``aia.lev1_euv_12s`` with ``T_REC_step`` 24 s and 3600 s (same keywords, links, segments).
``aia.lev1``
    The level-1 series the slotted AIA series link to. Its keywords are those of
    ``aia.lev1_euv_12s`` in the same order: the ``lev1->X`` keywords are the link targets
    ``X`` themselves, and the unlinked ones (``FSN``, ``EXPTIME``, ``QUALITY``, ``CRPIX1``...)
    are copied into the slotted series from the level-1 record by ``aia_slot``
    (``lm-jps/proj:lev1_aia/apps/aia_slot.c``, ``drms_copykeys``), so they exist in
    ``aia.lev1``. Then aia.lev1's own facts: ``T_REC`` is slotted with a 1 s step and the
    epoch ``1977.01.01_00:00:00_TAI`` (``aia_slot`` reads ``T_REC_epoch`` from aia.lev1, which
    is why the slot labels of ``aia.lev1_euv_12s`` sit 8 s (mod 12) off its own nominal epoch),
    and ``CALVER32`` (AIA level-1 processing writes it into aia.lev1), added after ``LVL_NUM``.
    Neither ``aia.lev1_euv_12s`` nor any AIA series has ``CALVER64``.
``hmi.Ic_45s``, ``hmi.M_720s``, ``hmi.Ic_720s``
    ``hmi.M_45s`` with their own segment and step: the segment keywords
    ``magnetogram_bzero``/``magnetogram_bscale`` are renamed after the segment (with its
    scaling), ``BUNIT``, ``CONTENT`` and the units of the ``DATA*`` statistics follow the
    observable, and ``T_REC_step``/``CADENCE`` carry the step, as ``hmi.V_45s``'s recorded
    definition differs from ``hmi.M_45s``'s in exactly these keywords (plus its own
    ``RAWMEDN``).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import NamedTuple

__all__ = ["KeywordRow", "aia_lev1_rows", "aia_slotted_rows", "hmi_rows", "recorded_rows"]

_TABLE = Path(__file__).parent / "data" / "series_keywords.csv"
AIA_LEV1_EPOCH = "1977.01.01_00:00:00_TAI"


class KeywordRow(NamedTuple):
    """One keyword as ``series_struct`` lists it (without JSOC's note)."""

    name: str
    type: str
    recscope: str
    defval: str
    units: str
    linkinfo: str | None


@cache
def recorded_rows(series: str) -> tuple[KeywordRow, ...]:
    """The recorded keywords of ``series`` (``aia.lev1_euv_12s`` or ``hmi.M_45s``), in order."""
    with _TABLE.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["series"] == series]
    if not rows:
        raise KeyError(series)
    return tuple(
        KeywordRow(r["name"], r["type"], r["recscope"], r["defval"], r["units"], r["linkinfo"] or None) for r in rows
    )


def _with(rows, name: str, **changes) -> list[KeywordRow]:
    return [row._replace(**changes) if row.name == name else row for row in rows]


def aia_slotted_rows(step_text: str) -> tuple[KeywordRow, ...]:
    """Keywords of a slotted AIA series: ``aia.lev1_euv_12s`` with ``T_REC_step`` = ``step_text``."""
    return tuple(_with(recorded_rows("aia.lev1_euv_12s"), "T_REC_step", defval=step_text))


def aia_lev1_rows() -> tuple[KeywordRow, ...]:
    """Keywords of ``aia.lev1`` (see the module docstring for the derivation)."""
    out = []
    for row in recorded_rows("aia.lev1_euv_12s"):
        row = row._replace(linkinfo=None)
        if row.name == "T_REC_step":
            row = row._replace(defval="1.000000")
        elif row.name == "T_REC_epoch":
            row = row._replace(defval=AIA_LEV1_EPOCH)
        out.append(row)
        if row.name == "LVL_NUM":
            out.append(KeywordRow("CALVER32", "int", "variable", "-2147483648", "none", None))
    return tuple(out)


def hmi_rows(segment: str, bscale: float, bzero: float, bunit: str, content: str, step_text: str):
    """Keywords of an HMI observable series: ``hmi.M_45s``'s, for ``segment`` at ``step_text`` s."""
    rows = []
    for row in recorded_rows("hmi.M_45s"):
        if row.name == "magnetogram_bzero":
            row = row._replace(name=f"{segment}_bzero", defval=f"{bzero:g}")
        elif row.name == "magnetogram_bscale":
            row = row._replace(name=f"{segment}_bscale", defval=f"{bscale:g}")
        elif row.name == "BUNIT":
            row = row._replace(defval=bunit)
        elif row.name == "CONTENT":
            row = row._replace(defval=content)
        elif row.name in ("T_REC_step", "CADENCE"):
            row = row._replace(defval=step_text)
        elif row.units == "Gauss":
            row = row._replace(units=bunit)
        rows.append(row)
    return tuple(rows)
