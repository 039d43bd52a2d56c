"""
Download paths: ``path`` templates filled from a search-result row.

Fido passes a client a ``path`` template holding ``{file}`` (it appends ``/{file}`` when the
user's path has none). sunpy's own JSOC client fills only ``{file}``, so a template such as
``~/data/{wavelength}/{file}`` fails there (sunpy/sunpy#7655). `target_path` fills ``{file}`` and
every column of the row, under its own name (``{T_REC}``) and under the cleaned lower-case name
Fido's ``response_block_map`` uses (``{t_rec}``). Time values accept `~astropy.time.Time.strftime`
format specifications: ``{T_REC:%Y/%m/%d}``.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import astropy.units as u
from astropy.time import Time

from .exceptions import PathTemplateError

__all__ = ["target_path", "template_keys"]

_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


def _clean_key(key: str) -> str:
    """The key as sunpy's ``response_block_map`` spells it (lower case, punctuation to ``_``)."""
    key = _PUNCTUATION.sub("_", key).replace(" ", "_")
    return "".join(char for char in key if char.isidentifier() or char.isnumeric()).lower()


class _TimeField:
    """A `~astropy.time.Time` in a format string: ``%`` specifications go to ``strftime``."""

    def __init__(self, time: Time) -> None:
        self.time = time

    def __format__(self, spec: str) -> str:
        if "%" in spec:
            return self.time.strftime(spec)
        return format(self.time, spec)

    def __str__(self) -> str:
        return str(self.time)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.time, name)


def _plain(value: Any) -> Any:
    """Times accept strftime specs; quantities become their number (``{wavelength}`` -> ``171``)."""
    if isinstance(value, Time):
        return _TimeField(value)
    if isinstance(value, u.Quantity) and value.isscalar:
        number = float(value.value)
        return int(number) if number.is_integer() else number
    return value


def _row_items(row: Mapping[str, Any] | Any) -> dict[str, Any]:
    """The row's columns as a dict (a `dict`, a table row, or anything with ``colnames``)."""
    if row is None:
        return {}
    if hasattr(row, "colnames"):
        return {name: row[name] for name in row.colnames}
    return dict(row)


def template_keys(row: Mapping[str, Any] | Any) -> dict[str, Any]:
    """
    The values a path template may use for a row: each column under its own name and its cleaned
    lower-case name (original names win on a clash); times wrapped to accept ``strftime`` specs,
    quantities as their number in the column's unit (``{wavelength}`` gives ``171``).
    """
    items = _row_items(row)
    keys: dict[str, Any] = {}
    for name, value in items.items():
        keys.setdefault(_clean_key(str(name)), _plain(value))
    for name, value in items.items():
        keys[str(name)] = _plain(value)
    return keys


def target_path(template: str | os.PathLike, filename: str, row: Mapping[str, Any] | Any = None) -> Path:
    """
    The download path of one file from a ``path`` template.

    Parameters
    ----------
    template : `str` or `os.PathLike`
        A path that may hold ``{file}`` (the exported file's name) and ``{<column>}`` fields of
        the row (e.g. ``{wavelength}``, ``{T_REC}``, ``{T_REC:%Y%m%d}``). Without ``{file}``,
        the template is a directory and the file name is appended. ``~`` is expanded.
    filename : `str`
        The exported file's name.
    row : `~collections.abc.Mapping` or table row, optional
        The search-result row the file comes from.

    Returns
    -------
    `pathlib.Path`

    Raises
    ------
    sunpy_jsoc_cutout.exceptions.PathTemplateError
        If the template names a key the row lacks (the message lists the available keys), or
        is not a valid format string.
    """
    text = os.fspath(template)
    if "{file}" not in text:
        text = str(Path(text) / "{file}")
    keys = template_keys(row)
    keys["file"] = filename
    try:
        filled = text.format(**keys)
    except KeyError as err:
        available = ", ".join(sorted(keys))
        raise PathTemplateError(
            f"The download path {text!r} uses {{{err.args[0]}}}, which this result does not have. "
            f"Available keys: {available}."
        ) from None
    except (ValueError, IndexError, AttributeError) as err:
        raise PathTemplateError(f"The download path {text!r} is not a valid template: {err}") from None
    return Path(filled).expanduser()
