"""The registry of processing steps: which implementation runs each JSOC step name.

Steps run in order through `STEP_REGISTRY` (name -> callable, None for a JSOC step the emulator
does not implement). Each step takes the list of `~.datatypes.ExportItem` (one per output file)
and returns the next list, so steps chain like JSOC's (each step's output record set is the next
step's input).

This module imports every step module it registers (``im_patch``, ``aia_scale``, ``rebin``, ``maproj``);
the steps import only the data types of :mod:`.datatypes`, never this module.
"""

from __future__ import annotations

from collections.abc import Mapping

from . import aia_scale, im_patch, maproj, rebin
from .datatypes import ExportItem, ProcessError, StepContext, StepFunc
from .process import JSOC_STEPS, ProcessChain

__all__ = ["STEP_REGISTRY", "register_step", "run_steps", "validate_steps"]


def _no_op(items: list[ExportItem], args: Mapping[str, str], context: StepContext) -> list[ExportItem]:
    return items


STEP_REGISTRY: dict[str, StepFunc | None] = dict.fromkeys(JSOC_STEPS)
STEP_REGISTRY.update(no_op=_no_op, im_patch=im_patch.im_patch, rebin=rebin.rebin_step)
STEP_REGISTRY.update(dict.fromkeys(aia_scale.AIA_SCALE_STEPS, aia_scale.aia_scale_step))
STEP_REGISTRY.update(resize=aia_scale.resize_step, Maproj=maproj.maproj_step)


def register_step(name: str, func: StepFunc | None) -> None:
    """Install (or, with None, disable) the implementation of processing step ``name``."""
    STEP_REGISTRY[name] = func


def _check(chain: ProcessChain, step_name: str) -> StepFunc:
    if step_name not in STEP_REGISTRY:
        raise ProcessError(f"Invalid process field value: {chain.text}.")
    func = STEP_REGISTRY[step_name]
    if func is None:
        raise ProcessError(f"Processing step '{step_name}' not supported by emulator yet.")
    return func


def run_steps(chain: ProcessChain, items: list[ExportItem], context: StepContext) -> list[ExportItem]:
    """
    Run the chain's steps in order.

    Raises
    ------
    ProcessError
        ``Invalid process field value: <process>.`` for a step JSOC does not know; a "not
        supported by emulator yet" message for a JSOC step the emulator does not implement.
    """
    for step in chain.steps:
        items = _check(chain, step.name)(items, step.kwargs, context)
    return items


def validate_steps(chain: ProcessChain) -> None:
    """Raise `ProcessError` now for what `run_steps` would refuse (used at pickup time)."""
    for step in chain.steps:
        _check(chain, step.name)
