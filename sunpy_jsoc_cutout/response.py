"""
The search result table: one row per record that the export requests will turn into a file.

Rows that JSOC will skip stay in the table with the reason in ``Skip`` (``QUALITY < 0``, ``no
image``, ``box off the image``) and a size of 0, so the user sees what will be missing. Rows whose
data are offline (on tape) are files JSOC will stage first: ``Online`` is False and the plan says so.
"""

import html

import numpy as np

import astropy.units as u
from astropy.table import TableAttribute
from astropy.time import Time

from sunpy.net.base_client import QueryResponseTable

from .config import conf_value

__all__ = ["JSOCCutoutResponse"]


class JSOCCutoutResponse(QueryResponseTable):
    """
    Search results of `~sunpy_jsoc_cutout.client.JSOCCutoutClient`: records and the export plan.

    Columns: ``T_REC``, ``T_OBS``, ``Wavelength``, ``Instrument``, ``Series``, ``QUALITY``,
    ``Skip`` (why JSOC will give no file for the row, or empty), ``Size`` (estimated float32
    cutout file size), ``Online`` (False: on tape, JSOC stages it first, which takes longer),
    ``Request`` (index into `plans`), ``recnum`` and the prime keys ``FSN`` and ``CAMERA``
    (-1 where the series has none), and ``Filename``, the name JSOC will give the row's file
    (predicted from the row's keywords and ``a.jsoc_cutout.FilenameFormat``; empty for a row JSOC
    skips or a name that cannot be predicted).
    ``print`` shows the export plan above the rows; `total_size` sums ``Size``.
    """

    hide_keys = ["recnum", "Request", "FSN", "CAMERA", "Filename"]
    size_column = "Size"
    #: One export plan per export request: what is sent to JSOC (its ``ds``, ``process`` and
    #: ``filenamefmt``); the ``Request`` column indexes it.
    plans = TableAttribute(default=[])
    #: The ``a.jsoc.Notify`` address of the query (None until given).
    notify = TableAttribute(default=None)
    #: The ``a.jsoc_cutout.Method`` of the query.
    method = TableAttribute(default="url")

    def plan_lines(self) -> list[str]:
        """The export plan as text lines: one per request still referenced by a row."""
        if not len(self) or not self.plans or not {"Request", "Size", "Skip"} <= set(self.colnames):
            return []
        used = sorted({int(i) for i in np.asarray(self["Request"])})
        size = np.asarray(self["Size"].to_value(u.Mibyte))
        skipped = np.asarray(self["Skip"]) != ""
        lines = [f"Export plan: {len(used)} JSOC request(s), {int((~skipped).sum())} files, {size.sum():.1f} MiB"]
        for index in used:
            plan = self.plans[index]
            rows = np.asarray(self["Request"]) == index
            lines.append(
                f"  [{index}] {plan.ds}  ({int(rows.sum())} records, {size[rows].sum():.1f} MiB, "
                f"method={plan.method}, protocol={plan.protocol}, sizeratio={plan.sizeratio})"
            )
            lines.append(f"      process={plan.process}")
        if skipped.any():
            reasons, counts = np.unique(np.asarray(self["Skip"])[skipped], return_counts=True)
            text = ", ".join(f"{c} {r}" for r, c in zip(reasons, counts, strict=True))
            lines.append(f"  Skipped by JSOC: {text}")
        if "Online" in self.colnames:
            lines += _offline_lines(~np.asarray(self["Online"], dtype=bool) & ~skipped, np.asarray(self["Request"]))
        return lines

    def __str__(self) -> str:
        return "\n".join([*self.plan_lines(), super().__str__()])

    def __repr__(self) -> str:
        return object.__repr__(self) + "\n" + str(self)

    def _repr_html_(self) -> str:
        plan = "<br>".join(html.escape(line) for line in self.plan_lines())
        return f"<p>{plan}</p>" + super()._repr_html_()


def _offline_lines(offline: np.ndarray, request: np.ndarray) -> list[str]:
    """The plan's note on records JSOC must stage from tape, with the time it adds."""
    if not offline.any():
        return []
    requests = len(np.unique(request[offline]))
    minutes = requests * conf_value("tape_staging_time") / 60
    return [
        f"  Offline (on tape): {int(offline.sum())} records in {requests} request(s); JSOC stages them before "
        f"processing, about {minutes:.0f} min more (conf.tape_staging_time per request)"
    ]


def _stack_times(parts: list[Time]) -> Time:
    """Concatenate times without formatting and re-parsing strings."""
    utc = [t.utc for t in parts]
    jd1, jd2 = np.concatenate([t.jd1 for t in utc]), np.concatenate([t.jd2 for t in utc])
    return Time(jd1, jd2, format="jd", scale="utc", precision=3).copy(format="isot")


def build_table(requests, client, notify, method) -> JSOCCutoutResponse:
    """Stack the rows of searched requests (``_plan.rows.SearchedRequest``) into one response table."""
    columns: dict[str, list] = {k: [] for k in ("T_REC", "T_OBS", "Wavelength", "Instrument", "Series", "QUALITY")}
    columns.update({"Skip": [], "Size": [], "Request": [], "recnum": [], "FSN": [], "CAMERA": [], "Online": []})
    columns["Filename"] = []
    for index, request in enumerate(requests):
        cols = request.columns
        if not cols:
            continue
        n = len(cols["T_REC"])
        columns["T_REC"].append(cols["T_REC"])
        columns["T_OBS"].append(cols["T_OBS"])
        columns["Wavelength"].append(np.asarray(cols["WAVELNTH"], dtype=float))
        columns["Instrument"].append(cols["INSTRUME"])
        columns["Series"].append(np.full(n, request.plan.series))
        columns["QUALITY"].append(cols["QUALITY"])
        columns["Skip"].append(cols["Skip"])
        columns["Size"].append(np.asarray(cols["bytes"], dtype=float))
        columns["Request"].append(np.full(n, index))
        columns["recnum"].append(cols["recnum"])
        for key in ("FSN", "CAMERA"):
            columns[key].append(np.asarray(cols.get(key, np.full(n, -1)), dtype=np.int64))
        columns["Online"].append(np.asarray(cols.get("Online", np.ones(n, dtype=bool)), dtype=bool))
        columns["Filename"].append(np.asarray(cols.get("Filename", np.full(n, "")), dtype=str))
    plans = [r.plan for r in requests]
    if not columns["T_REC"]:
        return JSOCCutoutResponse([], client=client, plans=plans, notify=notify, method=method)
    data = {"T_REC": _stack_times(columns.pop("T_REC")), "T_OBS": _stack_times(columns.pop("T_OBS"))}
    for key, parts in columns.items():
        data[key] = np.concatenate(parts)
    data["Wavelength"] = data["Wavelength"] * u.AA
    data["Size"] = (data["Size"] * u.byte).to(u.Mibyte)
    # the columns are new arrays made here: the table takes them as they are, not a second copy
    return JSOCCutoutResponse(data, client=client, plans=plans, notify=notify, method=method, copy=False)
