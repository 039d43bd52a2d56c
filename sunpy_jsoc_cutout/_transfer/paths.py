"""
Download paths: ``path`` templates filled from a search-result row.

Fido passes a client a ``path`` template holding ``{file}`` (it appends ``/{file}`` when the
user's path has none). sunpy's own JSOC client fills only ``{file}``, so a template such as
``~/data/{wavelength}/{file}`` fails there (sunpy/sunpy#7655). `target_path` fills ``{file}`` and
every column of the row, under its own name (``{T_REC}``) and under the cleaned lower-case name
Fido's ``response_block_map`` uses (``{t_rec}``). Time values accept `~astropy.time.Time.strftime`
format specifications: ``{T_REC:%Y/%m/%d}``.

Column values come from JSOC, so each is made safe for one path component before it is put in
the path (`safe_component`: ``/``, ``\\``, NUL and ``..`` become ``_``, as does a leading
``~``), and so is ``{file}``: only the template's own text can make directories. Fields with
attribute or index access (``{T_REC.__class__}``, ``{Size[0]}``) or a conversion
(``{T_REC!r}``) are refused with `~sunpy_jsoc_cutout.exceptions.PathTemplateError`, as is a
path under an existing regular file.
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

from sunpy_jsoc_cutout.config import download_dir
from sunpy_jsoc_cutout.exceptions import PathTemplateError

__all__ = ["path_template", "safe_component", "target_path", "template_keys"]

_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")
_UNSAFE = re.compile(r"[/\\\x00]|\.\.|^~")


def path_template(path: str | os.PathLike | None) -> str:
    """Fido's rule for ``path``: sunpy's download directory by default, ``/{file}`` appended when missing."""
    if path is None:
        return str(download_dir() / "{file}")
    text = str(path)
    return text if "{file}" in text else str(Path(text) / "{file}")


def safe_component(text: str) -> str:
    """``text`` as one path component: ``/``, ``\\``, NUL, ``..`` and a leading ``~`` become ``_``."""
    return _UNSAFE.sub("_", str(text))


class _SafeField:
    """A column value in a format string: formatted as asked, then made one safe path component."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        return safe_component(format(self.value, spec))


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
        return _SafeField(int(number) if number.is_integer() else number)
    return _SafeField(value)


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
    quantities as their number in the column's unit (``{wavelength}`` gives ``171``), other
    values made safe for one path component (`safe_component`).
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
        If the template names a key the row lacks (the message lists the available keys), uses
        attribute or index access or a conversion, is not a valid format string, or the path
        is under an existing regular file.
    """
    text = os.fspath(template)
    if "{file}" not in text:
        text = str(Path(text) / "{file}")
    _refuse_field_access(text, text)
    keys = template_keys(row)
    keys["file"] = _SafeField(filename)
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
    path = Path(filled).expanduser()
    _refuse_file_parent(path)
    return path


def _refuse_field_access(text: str, template: str) -> None:
    """Refuse ``{a.b}``, ``{a[0]}`` and ``{a!r}`` anywhere in ``text`` (nested specs included)."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError as err:
        raise PathTemplateError(f"The download path {template!r} is not a valid template: {err}") from None
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if re.search(r"[.\[\]]", name) or conversion:
            shown = name + (f"!{conversion}" if conversion else "")
            column = re.split(r"[.\[]", name)[0] or "T_REC"
            raise PathTemplateError(
                f"The download path {template!r} uses {{{shown}}}: attribute access, indexing and conversions are "
                f"not allowed in path templates; use the column alone, e.g. {{{column}}} or a format such as "
                "{T_REC:%Y%m%d}."
            )
        if spec:
            _refuse_field_access(spec, template)


def _refuse_file_parent(path: Path) -> None:
    """Refuse a path whose nearest existing ancestor is not a folder (mkdir would fail)."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise PathTemplateError(
                    f"The download path {str(path)!r} is under {str(parent)!r}, which is a file, not a folder; "
                    "choose a path inside a folder (or move that file away)."
                )
            return
