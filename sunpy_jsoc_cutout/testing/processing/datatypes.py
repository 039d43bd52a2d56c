"""The data types that processing steps pass along: `ExportItem`, `StepContext`, `ProcessError`.

They live apart from the ``process`` grammar (:mod:`.process`) and the step registry
(:mod:`.registry`), so that the steps (``im_patch``, ``rebin``, ``aia_scale_*``, the image
protocols) import them without importing the registry that imports the steps.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ExportItem", "ProcessError", "StepContext", "StepFunc"]


class ProcessError(ValueError):
    """A processing request that fails; ``str(err)`` is the JSOC error message."""


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


#: A processing step: the items and the step's arguments in, the next items out.
StepFunc = Callable[[list[ExportItem], Mapping[str, str], StepContext], list[ExportItem]]
