"""
Building the emulator's parts (catalogue, clock, time model, file store, export manager).

Kept apart from `~sunpy_jsoc_cutout.testing.server.emulator` so that the HTTP layer does not depend on the
constructor signatures of the data side.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.exports import timemodel
from sunpy_jsoc_cutout.testing.exports.clock import Clock
from sunpy_jsoc_cutout.testing.exports.filestore import FileStore
from sunpy_jsoc_cutout.testing.exports.manager import ExportManager

__all__ = ["build_components", "resolve_time_model"]


def resolve_time_model(time_model, seed: int = 0):
    """
    The `~sunpy_jsoc_cutout.testing.exports.timemodel.TimeModel` named by ``time_model``.

    Parameters
    ----------
    time_model : {"fast", "realistic"} or TimeModel
        A preset name (case-insensitive) or a model instance (returned as is).
    seed : int
        Seed given to a preset (its queue jitter).

    Raises
    ------
    ValueError
        For an unknown preset name.
    """
    if not isinstance(time_model, str):
        return time_model
    presets = {"fast": timemodel.FAST, "realistic": timemodel.REALISTIC}
    try:
        preset = presets[time_model.lower()]
    except KeyError:
        raise ValueError(f"unknown time model {time_model!r}; expected 'fast' or 'realistic'") from None
    return dataclasses.replace(preset, seed=seed)


def build_components(
    *, root: Path, image_size: int, time_model, record_limits: Mapping[str, int] | None, seed: int
) -> tuple:
    """
    Make the catalogue, clock, file store and export manager of one emulator.

    Returns
    -------
    tuple
        ``(catalogue, clock, store, manager)``.
    """
    catalogue = Catalogue()
    clock = Clock()
    store = FileStore(root, image_size=image_size, catalogue=catalogue)
    kwargs: dict[str, Any] = {"seed": seed}
    if record_limits is not None:
        kwargs["record_limits"] = dict(record_limits)
    manager = ExportManager(catalogue, store, clock, time_model, **kwargs)
    return catalogue, clock, store, manager
