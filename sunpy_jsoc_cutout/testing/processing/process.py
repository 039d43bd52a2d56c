"""The ``process`` argument of exports and the registry of processing steps.

Grammar (jsoc_protocol.md section 8.1, ``jsoc_export_manage.c`` ``ParseFields``)::

    process := "n=" INT ["," ] ( "|" step )*
    step    := NAME ( "," (KEY "=" VALUE | FLAG) )*

``n`` is the record limit (>0 first n, <0 last |n|, 0 none). The JSON form
``processing={"im_patch": {...}}`` plus ``max_recs`` is rebuilt into the same text
(`process_from_json`, section 8.5).

Steps run in order through `STEP_REGISTRY` (name -> callable). Each step takes the list of
`ExportItem` (one per output file) and returns the next list, so steps chain like JSOC's
(each step's output record set is the next step's input).

``im_patch`` is JSOC's cut-out program (:mod:`.im_patch`: tracked, registered or cropped
boxes written to ``<series>_mod`` records with float32 data, files named from the ``_mod``
segment, e.g. ``image.fits``). ``no_op`` does nothing. ``aia_scale_orig``,
``aia_scale_aialev1``, ``aia_scale_other`` and ``resize`` (:mod:`.aia_scale`) and ``rebin``
(:mod:`.rebin`) resample the pixels into ``<series>_mod``; those modules register themselves
with `register_step` when imported, which `run_steps` and `validate_steps` do on first use
(they import this module, so it cannot import them at load time). The other JSOC steps
(``Maproj``, ``HmiB2ptr``, ``hg_patch``) are known but not emulated yet and fail the request;
a step JSOC does not know fails with JSOC's ``Invalid process field value: <process>.``
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "JSOC_STEPS",
    "STEP_REGISTRY",
    "ExportItem",
    "ProcessChain",
    "ProcessError",
    "Step",
    "StepContext",
    "parse_process",
    "process_from_json",
    "register_step",
    "run_steps",
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


class ProcessError(ValueError):
    """A processing request that fails; ``str(err)`` is the JSOC error message."""


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


@dataclass
class ExportItem:
    """
    One file of an export, as the steps pass it along.

    Attributes
    ----------
    record : str
        Record query written in the index (``aia.lev1_euv_12s[2010-07-30T13:30:02Z][193]``).
    seriesname : str
        Series of the record (``{seriesname}``).
    records : Records
        The catalogue records the item comes from, and ``index`` its row.
    index : int
    segment : SegmentDef
        The segment to write (stored, or of the ``_mod`` series).
    header : dict
        The full FITS header to write.
    names : object
        `~sunpy_jsoc_cutout.testing.catalogue.filenames.NameSource` for ``filenamefmt``.
    data : numpy.ndarray or None
        Pixels made by a step (None: render from the header).
    region : tuple of slice or None
        Sub-region to render (for cut-outs).
    extra : dict
        Free-form information for later steps.
    """

    record: str
    seriesname: str
    records: Any
    index: int
    segment: Any
    header: dict
    names: Any
    data: Any = None
    region: tuple | None = None
    extra: dict = field(default_factory=dict)


@dataclass
class StepContext:
    """What a step may need besides its items: the request id, the catalogue, the chain text,
    the rendered full-disk size (None: 4096) and the record-set spec as opened."""

    requestid: str
    catalogue: Any
    process: str = ""
    image_size: int | None = None
    dataset: str = ""


StepFunc = Callable[[list[ExportItem], Mapping[str, str], StepContext], list[ExportItem]]


def _no_op(items: list[ExportItem], args: Mapping[str, str], context: StepContext) -> list[ExportItem]:
    return items


def _im_patch(items: list[ExportItem], args: Mapping[str, str], context: StepContext) -> list[ExportItem]:
    """JSOC's ``im_patch`` (`sunpy_jsoc_cutout.testing.processing.im_patch.im_patch`)."""
    from .im_patch import im_patch  # noqa: PLC0415 (im_patch imports this module)

    return im_patch(items, args, context)


STEP_REGISTRY: dict[str, StepFunc | None] = dict.fromkeys(JSOC_STEPS)
STEP_REGISTRY.update(no_op=_no_op, im_patch=_im_patch)


def register_step(name: str, func: StepFunc | None) -> None:
    """Install (or, with None, disable) the implementation of processing step ``name``."""
    STEP_REGISTRY[name] = func


_PIXEL_STEPS_LOADED = False


def _load_pixel_steps() -> None:
    """Import the modules that register the resampling steps (once; they import this module)."""
    global _PIXEL_STEPS_LOADED
    if not _PIXEL_STEPS_LOADED:
        _PIXEL_STEPS_LOADED = True
        importlib.import_module(f"{__package__}.aia_scale")
        importlib.import_module(f"{__package__}.rebin")


def run_steps(chain: ProcessChain, items: list[ExportItem], context: StepContext) -> list[ExportItem]:
    """
    Run the chain's steps in order.

    Raises
    ------
    ProcessError
        ``Invalid process field value: <process>.`` for a step JSOC does not know; a "not
        supported by emulator yet" message for a JSOC step the emulator does not implement.
    """
    _load_pixel_steps()
    for step in chain.steps:
        if step.name not in STEP_REGISTRY:
            raise ProcessError(f"Invalid process field value: {chain.text}.")
        func = STEP_REGISTRY[step.name]
        if func is None:
            raise ProcessError(f"Processing step '{step.name}' not supported by emulator yet.")
        items = func(items, step.kwargs, context)
    return items


def validate_steps(chain: ProcessChain) -> None:
    """Raise `ProcessError` now for what `run_steps` would refuse (used at pickup time)."""
    _load_pixel_steps()
    for step in chain.steps:
        if step.name not in STEP_REGISTRY:
            raise ProcessError(f"Invalid process field value: {chain.text}.")
        if STEP_REGISTRY[step.name] is None:
            raise ProcessError(f"Processing step '{step.name}' not supported by emulator yet.")
