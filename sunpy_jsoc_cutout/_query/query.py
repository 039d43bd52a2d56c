"""
`CutoutQuery`: what one OR-block of a Fido query asks for (pure; the contract every stage reads).

The walker (`~sunpy_jsoc_cutout._query.walker`) builds one per OR-block; every default lives here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from astropy.time import Time

from .box import ActiveRegion, Box
from .export import ExportProtocol
from .options import Level1p5, Rebin, Resize, Tracking
from .projection import MapProjection

__all__ = ["CutoutQuery", "KeywordCondition"]

#: One ``a.jsoc.Keyword`` comparison: ``(name, operator, value)``.
KeywordCondition = tuple[str, str, Any]


def _tracked() -> Tracking:
    return Tracking(True)


def _fits() -> ExportProtocol:
    return ExportProtocol("fits")


@dataclass(frozen=True)
class CutoutQuery:
    """
    One walked query block: every attr's value, or its default.

    The walker only collects; ``_plan.checks.check_block`` decides whether the combination is valid.

    Parameters
    ----------
    series : str or None
        ``a.jsoc.Series``; `None` when not given.
    coaligned : tuple of str or None
        ``a.jsoc_cutout.CoalignedSeries``; `None` when not given.
    start_time, end_time : `~astropy.time.Time` or None
        ``a.Time``; `None` when not given.
    wavelength : int or None
        ``a.Wavelength`` in Å; `None` when not given.
    wavelengths : tuple of int or None
        ``a.jsoc_cutout.Wavelengths`` in Å; `None` when not given.
    sample : float or None
        ``a.Sample`` in seconds; `None` when not given (every frame).
    notify : str or None
        ``a.jsoc.Notify``; `None` when not given (refused at fetch).
    segments : tuple of str
        ``a.jsoc.Segment`` names in order; empty for the series' image segment.
    keywords : tuple of (str, str, object)
        ``a.jsoc.Keyword`` comparisons ``(name, operator, value)``; empty by default.
    primekeys : tuple of (str, object)
        ``a.jsoc.PrimeKey`` ``(label, value)`` pairs, a later one replacing an earlier one of the
        same label (`primekey_values`); empty by default.
    protocol : `~sunpy_jsoc_cutout.attrs.ExportProtocol`
        ``a.jsoc_cutout.ExportProtocol`` or ``a.jsoc.Protocol``; default ``fits``.
    method : str or None
        ``a.jsoc_cutout.Method``; `None` when not given, sent as ``url`` (`export_method`).
    filename_format : str or None
        ``a.jsoc_cutout.FilenameFormat``; `None` for the series' default format.
    record_limit : int
        ``a.jsoc_cutout.RecordLimit``; 0 (no limit) by default.
    requestor : str or None
        ``a.jsoc_cutout.Requestor``; `None` when not given (not sent).
    boxes : tuple of `~sunpy_jsoc_cutout.attrs.Box` or `~sunpy_jsoc_cutout.attrs.ActiveRegion`
        The cutout boxes (``a.jsoc.Cutout`` gives one too); a checked query has exactly one.
    reference_time : `~astropy.time.Time`, str or None
        ``a.jsoc_cutout.ReferenceTime`` (or ``a.jsoc.Cutout``'s ``t_ref``); `None` when not given.
    tracking : `~sunpy_jsoc_cutout.attrs.Tracking`
        ``a.jsoc_cutout.Tracking``; default ``Tracking(True)`` (the export page's default).
    register, crop, full_headers : bool
        ``Register``, ``Crop``, ``FullHeaders``; all False by default.
    level1p5 : `~sunpy_jsoc_cutout.attrs.Level1p5` or None
        ``a.jsoc_cutout.Level1p5``; `None` for no ``aia_scale`` step.
    rebin : `~sunpy_jsoc_cutout.attrs.Rebin` or None
        ``a.jsoc_cutout.Rebin``; `None` for no ``rebin`` step.
    resize : `~sunpy_jsoc_cutout.attrs.Resize` or None
        ``a.jsoc_cutout.Resize``; `None` for no ``resize`` step.
    map_projection : `~sunpy_jsoc_cutout.attrs.MapProjection` or None
        ``a.jsoc_cutout.MapProjection``; `None` for no ``Maproj`` step.

    Examples
    --------
    >>> from sunpy_jsoc_cutout._query.query import CutoutQuery
    >>> query = CutoutQuery()
    >>> query.tracking.enabled, query.protocol.jsoc_string, query.export_method, query.record_limit
    (True, 'fits', 'url', 0)
    """

    series: str | None = None
    coaligned: tuple[str, ...] | None = None
    start_time: Time | None = None
    end_time: Time | None = None
    wavelength: int | None = None
    wavelengths: tuple[int, ...] | None = None
    sample: float | None = None
    notify: str | None = None
    segments: tuple[str, ...] = ()
    keywords: tuple[KeywordCondition, ...] = ()
    primekeys: tuple[tuple[str, Any], ...] = ()
    protocol: ExportProtocol = field(default_factory=_fits)
    method: str | None = None
    filename_format: str | None = None
    record_limit: int = 0
    requestor: str | None = None
    boxes: tuple[Box | ActiveRegion, ...] = ()
    reference_time: Time | str | None = None
    tracking: Tracking = field(default_factory=_tracked)
    register: bool = False
    crop: bool = False
    full_headers: bool = False
    level1p5: Level1p5 | None = None
    rebin: Rebin | None = None
    resize: Resize | None = None
    map_projection: MapProjection | None = None

    @property
    def waves(self) -> list[int]:
        """The wavelengths asked for (``Wavelengths`` or ``a.Wavelength``), empty for none."""
        if self.wavelengths:
            return list(self.wavelengths)
        return [self.wavelength] if self.wavelength is not None else []

    @property
    def primekey_values(self) -> Mapping[str, Any]:
        """``a.jsoc.PrimeKey`` values by label (the last one given wins)."""
        return dict(self.primekeys)

    @property
    def export_method(self) -> str:
        """The export method sent: `method`, ``url`` when not given."""
        return self.method or "url"

    @property
    def rebin_scale(self) -> float | None:
        """The ``Rebin`` scale, `None` without rebinning."""
        return self.rebin.scale if self.rebin is not None else None

    @property
    def resize_scale(self) -> float | None:
        """The plate scale (arcsec/px) ``Resize`` resamples to before im_patch, `None` for none."""
        return self.resize.scale if self.resize is not None else None

    @property
    def segment(self) -> str | None:
        """The first ``a.jsoc.Segment``, `None` for the series' image segment."""
        return self.segments[0] if self.segments else None
