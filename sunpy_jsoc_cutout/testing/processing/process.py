"""The ``process`` argument of exports: its grammar, the JSON form and JSOC's size ratio.

Grammar (``lm-jps/drms:base/export/apps/jsoc_export_manage.c`` ``ParseFields``, L2531-2800;
the legacy comma after ``n=``, L2622-2640)::

    process := "n=" INT ["," ] ( "|" step )*
    step    := NAME ( "," (KEY "=" VALUE | FLAG) )*

``n`` is the record limit (>0 first n, <0 last |n|, 0 none). The JSON form
``processing={"im_patch": {...}}`` plus ``max_recs`` is rebuilt into the same text
(`process_from_json`; ``lm-jps/drms:base/export/apps/jsoc_fetch.c`` L1942-1997).

The steps themselves are run by :mod:`.registry`. ``im_patch`` is JSOC's cut-out program
(:mod:`.im_patch`: tracked, registered or cropped boxes written to ``<series>_mod`` records with
float32 data, files named from the ``_mod`` segment, e.g. ``image.fits``). ``no_op`` does
nothing. ``aia_scale_orig``, ``aia_scale_aialev1``, ``aia_scale_other`` and ``resize``
(:mod:`.aia_scale`) and ``rebin`` (:mod:`.rebin`) resample the pixels into ``<series>_mod``;
``Maproj`` (:mod:`.maproj`) remaps them to a map projection there.
The other JSOC steps (``HmiB2ptr``, ``hg_patch``) are known but not emulated yet and
fail the request; a step JSOC does not know fails with JSOC's ``Invalid process field value:
<process>.``
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .datatypes import ProcessError

__all__ = [
    "JSOC_STEPS",
    "ProcessChain",
    "Step",
    "parse_process",
    "process_from_json",
    "size_ratio",
]

#: Step names in JSOC's ``jsoc.export_procs`` table (processing.h, drms ``json.py``).
JSOC_STEPS = (
    "no_op",
    "im_patch",
    "resize",
    "rebin",
    "aia_scale_orig",
    "aia_scale_aialev1",
    "aia_scale_other",
    "Maproj",
    "HmiB2ptr",
    "hg_patch",
)
NOT_SPECIFIED = "Not Specified"


@dataclass(frozen=True)
class Step:
    """One processing step: ``name`` and its arguments in order (flags map to ``""``)."""

    name: str
    args: tuple[tuple[str, str], ...] = ()

    @property
    def kwargs(self) -> dict[str, str]:
        return dict(self.args)


@dataclass(frozen=True)
class ProcessChain:
    """A parsed ``process`` value."""

    text: str
    limit: int = 0
    steps: tuple[Step, ...] = ()

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.steps if s.name != "no_op"]


def _parse_step(text: str) -> Step:
    name, *parts = [p.strip() for p in text.split(",")]
    args = []
    for part in parts:
        if not part:
            continue
        key, _, value = part.partition("=")
        args.append((key.strip(), value.strip()))
    return Step(name, tuple(args))


def parse_process(text: str | None) -> ProcessChain:
    """
    Parse a ``process`` value (``n=0|im_patch,t_ref=...,x=0``).

    Parameters
    ----------
    text : str or None
        The value; None, ``""`` or ``"Not Specified"`` mean no processing and no limit.

    Returns
    -------
    ProcessChain
        Step names are not checked here (JSOC fails unknown steps later, at export time).
    """
    if not text or text == NOT_SPECIFIED:
        return ProcessChain(text or NOT_SPECIFIED)
    elements = list(text.split("|"))
    limit = 0
    head = elements[0].strip()
    if head.startswith("n="):
        number, _, rest = head[2:].partition(",")  # a legacy comma after n= is tolerated
        try:
            limit = int(number.strip() or 0)
        except ValueError:
            limit = 0
        elements = ([rest] if rest.strip() else []) + elements[1:]
    steps = tuple(_parse_step(e) for e in elements if e.strip())
    return ProcessChain(text, limit, steps)


def _json_value(value: Any) -> str:
    if value is True:
        return "1"
    if value is False or value is None:
        return "0"
    return str(value)


def process_from_json(processing: str, max_recs: str | None = None) -> str:
    """
    Rebuild the ``process`` text from the JSON ``processing`` argument (jsoc_fetch does this).

    Parameters
    ----------
    processing : str
        JSON object ``{step: {arg: value}}``.
    max_recs : str, optional
        The record limit (default 0).

    Raises
    ------
    ProcessError
        ``invalid processing list argument`` for bad JSON or an unknown step.
    """
    try:
        steps = json.loads(processing)
        limit = int(max_recs or 0)
    except (ValueError, TypeError) as err:
        raise ProcessError("invalid processing list argument") from err
    if not isinstance(steps, dict) or any(
        k not in JSOC_STEPS or not isinstance(v, dict | None) for k, v in steps.items()
    ):
        raise ProcessError("invalid processing list argument")
    parts = [f"n={limit}"]
    for name, args in steps.items():
        parts.append(",".join([name] + [f"{k}={_json_value(v)}" for k, v in (args or {}).items()]))
    if len(parts) == 1:
        parts.append("no_op")
    return "|".join(parts)


def _number(args: Mapping[str, str], key: str, default: float) -> float:
    try:
        return float(args.get(key, default))
    except ValueError:
        return default


def size_ratio(chain: ProcessChain, nx: int = 4096, ny: int = 4096) -> float | None:
    """
    JSOC's per-step size ratio of a processing chain (``processing.c``), or None without steps.

    im_patch: ``width*height/(nx*ny)`` in raw numbers whatever the units; Maproj:
    ``cols*rows/(nx*ny)``; rebin: ``scale**2``; resize: ``0.6/scale_to``; others 1.
    """
    if not chain.step_names:
        return None
    ratio = 1.0
    for step in chain.steps:
        args = step.kwargs
        if step.name == "im_patch":
            ratio *= _number(args, "width", nx) * _number(args, "height", ny) / (nx * ny)
        elif step.name == "Maproj":
            ratio *= _number(args, "cols", nx) * _number(args, "rows", ny) / (nx * ny)
        elif step.name == "rebin":
            ratio *= _number(args, "scale", 1.0) ** 2
        elif step.name == "resize":
            ratio *= 0.6 / max(_number(args, "scale_to", 0.6), 1e-6)
    return ratio
