"""
The results as tables: JSON (everything), markdown (``latest.md``), the reStructuredText the docs
include (``docs/explanation/performance_results.inc``) and one plot (``performance.png``).

`tables` turns the results dict into ``(title, header, rows)`` triples; `markdown` and `rst`
render the same triples, so that the docs always show the table of the JSON beside them.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["markdown", "plot", "rst", "tables", "write_all"]

Table = tuple[str, list[str], list[list[str]]]
CLIENTS = (("ours", "sunpy_jsoc_cutout"), ("stock", "sunpy JSOCClient"), ("drms", "drms by hand"))


def _by_box(figures: dict) -> list[tuple[str, dict]]:
    """``(box, figures)`` by box size (JSON keeps the keys as sorted text: "1000" before "500")."""
    return sorted(figures.items(), key=lambda item: int(item[0]))


def _f(value, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def _ratio(a, b) -> str:
    return "-" if not a or not b else f"{a / b:.2f}x"


def _w1(results: dict) -> Table:
    header = ["figure"]
    columns = []
    for box, run in _by_box(results["W1"]):
        for key, label in CLIENTS:
            if key in run:
                header.append(f"{box}² {label}")
                columns.append((run, run[key]))
        header.append(f"{box}² lower bound")
        columns.append((run, None))

    def row(label: str, pick) -> list[str]:
        return [label, *(pick(run, fig) for run, fig in columns)]

    rows = [
        row("wall time, s", lambda r, f: _f(f["wall"] if f else r["lower_bound"]["total"])),
        row("÷ lower bound", lambda r, f: _ratio(f["wall"], r["lower_bound"]["total"]) if f else "1.00x"),
        row(
            "sunpy baseline ÷ this",
            lambda r, f: _ratio(r.get("stock", {}).get("wall"), f["wall"] if f else r["lower_bound"]["total"]),
        ),
        row(
            "drms by hand ÷ this",
            lambda r, f: _ratio(r.get("drms", {}).get("wall"), f["wall"] if f else r["lower_bound"]["total"]),
        ),
        row("÷ emulator-charged bound", lambda r, f: _ratio(f["wall"], f["observed_bound"]) if f else "-"),
        row("staging (union), s", lambda r, f: _f(f["staging"]) if f else _f(r["lower_bound"]["staging"])),
        row("files", lambda r, f: str(f["files"]) if f else str(r["records"])),
        row("MB downloaded", lambda r, f: _f(f["bytes"] / 1e6, "{:.2f}") if f else "-"),
        row("MB at JSOC's 4096² scale", lambda r, f: _f(f["bytes"] * r["bytes_factor"] / 1e6) if f else "-"),
        row("HTTP calls", lambda r, f: str(f["calls"]["total"]) if f else "-"),
        *(
            row(f"  {name}", lambda r, f, n=name: str(f["calls"].get(n, 0)) if f else "-")
            for name in _endpoints(results["W1"])
        ),
        row("exports", lambda r, f: str(f["exports"]) if f else "-"),
        row("max download connections", lambda r, f: str(f["max_connections"]) if f else "-"),
        row("client CPU s", lambda r, f: _f(f["cpu"]) if f else "-"),
        row("client peak RSS, MB", lambda r, f: _f(f["peak_rss_mb"], "{:.0f}") if f else "-"),
    ]
    return "W1: the user's guide campaign (seconds of the scaled time model)", header, rows


def _endpoints(w1: dict) -> list[str]:
    names = set()
    for run in w1.values():
        for key, _ in CLIENTS:
            names |= set(run.get(key, {}).get("calls", {}))
    return sorted(names - {"total"})


def _w2(results: dict) -> Table:
    header = [
        "case",
        "rows",
        "drms rows",
        "ours s",
        "stock s",
        "drms s",
        "stock ÷ ours",
        "drms ÷ ours",
        "ours MB",
        "stock MB",
        "drms MB",
    ]
    rows = []
    cases = []
    for case in results["W2"]:
        cases.append(case)
        if "drms_every_frame" in case:  # drms listing every frame, as an exact answer needs
            label = f"{case['label']}, drms listing every frame"
            cases.append({**case, "label": label, "drms": case["drms_every_frame"]})
    for case in cases:
        ours, stock, drms = (case.get(k) for k in ("ours", "stock", "drms"))
        rows.append(
            [
                case["label"],
                str(ours["rows"]),
                "-" if not drms else str(drms["rows"]),
                _f(ours["wall"], "{:.2f}"),
                _f(stock and stock["wall"], "{:.2f}"),
                _f(drms and drms["wall"], "{:.2f}"),
                _ratio(stock and stock["wall"], ours["wall"]),
                _ratio(drms and drms["wall"], ours["wall"]),
                _f(ours["peak_rss_mb"], "{:.0f}"),
                _f(stock and stock["peak_rss_mb"], "{:.0f}"),
                _f(drms and drms["peak_rss_mb"], "{:.0f}"),
            ]
        )
    return "W2: search and planning (wall time of the call, peak RSS of the client's process)", header, rows


def _w3(results: dict) -> Table:
    w3 = results["W3"]
    header = [
        "box",
        "cutout MB/record",
        "full disk MB/record",
        "full disk ÷ cutout",
        "campaign cutouts GB",
        "campaign full disk GB",
    ]
    rows = []
    for box, per in _by_box(w3["cutout_bytes_per_record"]):
        full = w3["full_disk_bytes_per_record"]
        n = w3["campaign_records"]
        rows.append(
            [
                f"{box}²",
                _f(per / 1e6, "{:.3f}"),
                _f(full / 1e6, "{:.2f}"),
                _ratio(full, per),
                _f(per * n / 1e9, "{:.2f}"),
                _f(full * n / 1e9, "{:.1f}"),
            ]
        )
    return "W3: bytes of cutouts against full-disk files of the same records (4096² images)", header, rows


def _w4(results: dict) -> Table:
    w4 = results["W4"]
    header = ["figure", "value"]
    rows = [
        ["files planned", str(w4["planned"])],
        ["files on disk at the kill", str(w4["on_disk_at_kill"])],
        ["files on disk after the rerun", str(w4["files"])],
        ["exports made (first run, rerun)", f"{w4['exports_first']}, {w4['exports_rerun']}"],
        ["exports repeated", str(w4["exports_repeated"])],
        ["exp_request calls in the rerun", str(w4["exp_request_rerun"])],
        ["files downloaded again", str(w4["files_again"])],
        ["MB downloaded again", _f(w4["bytes_again"] / 1e6, "{:.2f}")],
        ["MB downloaded (first run, rerun)", f"{w4['bytes_first'] / 1e6:.2f}, {w4['bytes_rerun'] / 1e6:.2f}"],
    ]
    return "W4: resume after SIGKILL at half way", header, rows


def _w5(results: dict) -> Table:
    header = ["run", "records", "client CPU s", "CPU ms per record", "of which search s"]
    rows = []
    for box, run in _by_box(results["W1"]):
        for key, label in CLIENTS:
            fig = run.get(key)
            if fig:
                rows.append(
                    [
                        f"{box}² {label}",
                        str(fig["files"]),
                        _f(fig["cpu"], "{:.2f}"),
                        _f(1e3 * fig["cpu"] / max(fig["files"], 1), "{:.2f}"),
                        _f(fig.get("search"), "{:.2f}"),
                    ]
                )
    return "W5: client CPU seconds from search to files on disk (emulator excluded)", header, rows


def tables(results: dict) -> list[Table]:
    """The workloads present in ``results`` as ``(title, header, rows)``."""
    makers = {"W1": _w1, "W2": _w2, "W3": _w3, "W4": _w4}
    out = [maker(results) for key, maker in makers.items() if results.get(key)]
    if results.get("W1"):
        out.append(_w5(results))
    return out


def _settings_line(results: dict) -> str:
    s = results["settings"]
    return (
        f"Run {s['started']} on {s['machine']} (load average {s['load']}); `{s['command'].strip()}`; realistic time model / "
        f"{s['scale']:g}, {s['image_size']}² images, download bandwidth scaled to JSOC-sized files."
    )


def markdown(results: dict) -> str:
    """All tables as markdown."""
    lines = [f"# Benchmark results\n\n{_settings_line(results)}\n"]
    for title, header, rows in tables(results):
        lines += [f"## {title}\n", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines.append("")
    return "\n".join(lines)


def rst(results: dict) -> str:
    """All tables as reStructuredText list-tables (the docs include this)."""
    lines = [_settings_line(results).replace("`", "``"), ""]
    for title, header, rows in tables(results):
        lines += [f".. list-table:: {title}", "   :header-rows: 1", ""]
        for row in [header, *rows]:
            lines.append(f"   * - {row[0] or ' '}")
            lines += [f"     - {cell or ' '}" for cell in row[1:]]
        lines.append("")
    return "\n".join(lines)


def plot(results: dict, path: Path) -> None:
    """W1 wall times (with the lower bound) and W2 search times, side by side, as a PNG."""
    import matplotlib as mpl  # noqa: PLC0415 - only when a plot is asked for

    mpl.use("agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    boxes = [box for box, _ in _by_box(results.get("W1", {}))]
    width = 0.2
    for k, (key, label) in enumerate((*CLIENTS, ("bound", "lower bound"))):
        values = [
            results["W1"][b]["lower_bound"]["total"] if key == "bound" else results["W1"][b].get(key, {}).get("wall", 0)
            for b in boxes
        ]
        left.bar([i + (k - 1.5) * width for i in range(len(boxes))], values, width, label=label)
    left.set_xticks(range(len(boxes)), [f"{b}² box" for b in boxes])
    left.set_ylabel("wall time, s (emulator time model)")
    left.set_title("W1: the guide's campaign")
    left.legend(fontsize="small")
    cases = [c for c in results.get("W2", []) if c.get("stock")]
    for key, label in CLIENTS:
        right.plot([c["ours"]["rows"] for c in cases], [c[key]["wall"] for c in cases], "o-", label=label)
    right.set_xlabel("records")
    right.set_ylabel("search wall time, s")
    right.set_title("W2: search and planning")
    right.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_all(results: dict, out: Path, docs: Path | None = None) -> None:
    """``latest.json`` and ``latest.md`` in ``out``; with ``docs``, the docs' include file and plot there."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1, sort_keys=True))
    (out / "latest.md").write_text(markdown(results))
    if docs is not None:
        (docs / "performance_results.inc").write_text(rst(results))
        plot(results, docs / "performance.png")
