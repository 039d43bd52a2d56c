"""
The final paths the search-result blocks of one ``Fido.fetch`` would write, and the refusal of two
different files with one path.

The search refuses planned files of one job that JSOC would give one name
(`~sunpy_jsoc_cutout._plan.names.refuse_collisions`); different search results, or the blocks of
an OR query (Fido searches each on its own), are planned apart, and their files can still meet at
one path: the same record cut out with two boxes or map projections gets the same default name,
and a ``path`` template may drop what tells records apart. `SharedPaths` collects the planned paths
of the blocks of one fetch (each row's predicted ``Filename`` put in the template) and refuses,
with `~sunpy_jsoc_cutout.exceptions.PathCollisionError`, a path two different files would take:
different records, or the same record exported with other processing or another protocol. The
same rows fetched twice (``Fido.fetch(result, result)``) are the same files, not a collision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sunpy_jsoc_cutout.exceptions import PathCollisionError
from .paths import safe_component, target_path

__all__ = ["Planned", "SharedPaths", "planned_paths", "row_label"]

#: How many colliding paths a refusal names.
_SHOW = 3
#: Columns whose difference a path template can show, and the field that shows it.
_FIELDS = (("T_REC", "{T_REC:%Y%m%d_%H%M%S}"), ("Wavelength", "{wavelength}"), ("CAMERA", "{CAMERA}"))


@dataclass(frozen=True)
class Planned:
    """One planned file: what it holds (``identity``), its row's label and columns, and its block."""

    identity: tuple
    label: str
    block: int
    process: str
    columns: dict = field(compare=False, hash=False)


def row_label(series: str, row) -> str:
    """``series[T_REC][wavelength]`` of a search-result row."""
    text = f"{series}[{row['T_REC'].isot}]"
    if "Wavelength" in row.colnames and np.isfinite(float(row["Wavelength"].value)):
        text += f"[{row['Wavelength'].value:g}]"
    return text


def planned_paths(template: str, table, block: int) -> dict[Path, Planned]:
    """
    The final path of every planned file of ``table`` whose name is predicted (``Filename``).

    Rows JSOC skips and files whose names cannot be predicted (movies, images) are left out.
    """
    if "Filename" not in table.colnames or not len(table):
        return {}
    plain = template.replace("{file}", "").count("{") == 0
    out: dict[Path, Planned] = {}
    names, skips, requests = (np.asarray(table[c]) for c in ("Filename", "Skip", "Request"))
    for i in np.flatnonzero((skips == "") & (names != "")):
        row = table[int(i)]
        plan = table.plans[int(requests[i])]
        path = Path(template.format(file=safe_component(str(names[i])))) if plain else None
        path = (path or target_path(template, str(names[i]), row)).expanduser().absolute()
        record = int(row["recnum"]) if "recnum" in row.colnames else row_label(plan.series, row)
        identity = (plan.series, record, str(plan.process), str(plan.protocol).lower())
        columns = {name: str(row[name]) for name, _ in _FIELDS if name in row.colnames}
        out[path] = Planned(identity, row_label(plan.series, row), block, str(plan.process), columns)
    return out


def _advice(planned: list[Planned]) -> str:
    """What tells the colliding files apart: a template field, else a folder per search result."""
    fields = [f for name, f in _FIELDS if len({p.columns.get(name) for p in planned}) > 1]
    if fields:
        return (
            f"Use a path template with {' or '.join(fields)} (e.g. path='.../{fields[0]}/{{file}}'), or fetch "
            "each search result into its own folder."
        )
    return (
        "They are the same record exported with different processing, which no column tells apart: fetch "
        "each search result into its own folder (Fido.fetch(result_1, path='.../one/{file}'), then "
        "result_2 with another folder), or give each search its own a.jsoc_cutout.FilenameFormat text "
        "(e.g. 'box1.{T_REC:A}.{WAVELNTH}.{segment}')."
    )


class SharedPaths:
    """The planned paths of the blocks of one fetch so far (see the module notes)."""

    def __init__(self) -> None:
        self.paths: dict[Path, Planned] = {}
        self.blocks = 0

    def add(self, planned: dict[Path, Planned]) -> None:
        """
        Add one block's planned paths (from `planned_paths` with ``block=self.blocks``).

        Raises
        ------
        sunpy_jsoc_cutout.exceptions.PathCollisionError
            If a path is planned for a different file already (nothing is added then).
        """
        clashes = {
            path: (self.paths[path], new)
            for path, new in planned.items()
            if path in self.paths and self.paths[path].identity != new.identity
        }
        if clashes:
            shown = "; ".join(
                f"{str(path)!r} for {old.label} of search result {old.block + 1} and {new.label} of search "
                f"result {new.block + 1}"
                for path, (old, new) in list(clashes.items())[:_SHOW]
            )
            more = f" (and {len(clashes) - _SHOW} more)" if len(clashes) > _SHOW else ""
            message = (
                f"This fetch would write {2 * len(clashes)} different files to {len(clashes)} path(s), so each "
                f"would overwrite the other: {shown}{more}. Nothing was sent to JSOC. "
                f"{_advice([p for pair in clashes.values() for p in pair])}"
            )
            raise PathCollisionError(message)
        self.paths.update(planned)
        self.blocks += 1
