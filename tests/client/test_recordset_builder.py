"""Record-set strings: TAI times, cadence rounding, prime-key order, lev1 handling; structured record sets."""

import itertools
import re

import numpy as np
import pytest

import astropy.units as u
from astropy.time import Time

from sunpy.util.exceptions import SunpyUserWarning

from sunpy_jsoc_cutout._plan.coords import ImPatchLocation
from sunpy_jsoc_cutout._plan.jsoc_text import drms_time
from sunpy_jsoc_cutout._plan.limit import limit_records
from sunpy_jsoc_cutout._plan.plans import ExportPlan
from sunpy_jsoc_cutout._plan.process import ImPatch, Process
from sunpy_jsoc_cutout._plan.recordset import (
    RecordSet,
    build_recordset,
    make_recordset,
    page_edges,
    page_recordsets,
    plan_recordsets,
    resolve_cadence,
)
from sunpy_jsoc_cutout._plan.rows import SearchedRequest
from sunpy_jsoc_cutout._plan.series_rules import rules_for
from sunpy_jsoc_cutout._plan.split import split_request
from sunpy_jsoc_cutout.exceptions import CutoutQueryError

T0, T1 = Time("2014-02-05T08:00:00", scale="tai"), Time("2014-02-05T16:00:00", scale="tai")


@pytest.mark.parametrize(
    ("time", "text"),
    [
        (Time("2014-02-05T08:00:00", scale="utc"), "2014.02.05_08:00:35_TAI"),  # 35 leap seconds in 2014
        (Time("2010-07-30T13:30:02", scale="utc"), "2010.07.30_13:30:36_TAI"),
        (Time("2014-02-05T08:00:00.5", scale="tai"), "2014.02.05_08:00:00.500_TAI"),
    ],
)
def test_drms_time_is_tai(time, text):
    assert drms_time(time) == text


def test_issue_example_aia_lev1():
    assert (
        build_recordset(rules_for("aia.lev1"), start=T0, end=T1, wavelengths=[171])
        == "aia.lev1[2014.02.05_08:00:00_TAI-2014.02.05_16:00:00_TAI][? WAVELNTH=171 ?]"
    )


def test_lev1_cadence_whole_seconds():
    cad = resolve_cadence(rules_for("aia.lev1"), 60)
    assert (cad.at, cad.im_patch) == ("@60s", "60s")
    with pytest.warns(SunpyUserWarning, match="sent as 62 s"):
        assert resolve_cadence(rules_for("hmi.lev1"), 61.6).at == "@62s"


@pytest.mark.parametrize(
    ("series", "sample", "effective"),
    [("aia.lev1_euv_12s", 90, "96"), ("hmi.M_45s", 60, "45"), ("aia.lev1_uv_24s", 5, "24")],
)
def test_slotted_cadence_rounds_with_warning(series, sample, effective):
    with pytest.warns(SunpyUserWarning, match=f"effective cadence is {effective} s"):
        assert resolve_cadence(rules_for(series), sample).at == f"@{effective}s"


def test_slotted_multiple_does_not_warn():
    assert resolve_cadence(rules_for("hmi.M_720s"), 3600).at == "@3600s"


def test_primekeys_in_series_order_and_unknown_key_refused():
    rules = rules_for("hmi.sharp_720s")
    assert build_recordset(rules, primekeys={"HARPNUM": 377}) == "hmi.sharp_720s[377]"
    with pytest.raises(CutoutQueryError, match=r"not a prime key of aia\.lev1_euv_12s"):
        build_recordset(rules_for("aia.lev1_euv_12s"), start=T0, end=T1, primekeys={"FSN": 3})


def test_keyword_values_quoted_only_for_strings():
    text = build_recordset(
        rules_for("hmi.M_45s"),
        start=T0,
        end=T1,
        keywords=[("QUALITY", "=", 0), ("CAMERA", "=", "2")],
        segments=["magnetogram"],
    )
    assert text == (
        "hmi.M_45s[2014.02.05_08:00:00_TAI-2014.02.05_16:00:00_TAI][? QUALITY=0 AND CAMERA='2' ?]{magnetogram}"
    )


def test_plan_splits_wavelengths_only_where_they_are_filters():
    assert len(plan_recordsets(rules_for("aia.lev1"), start=T0, end=T1, wavelengths=[171, 193])) == 2
    (single,) = plan_recordsets(rules_for("aia.lev1_euv_12s"), start=T0, end=T1, wavelengths=[171, 193])
    assert single.ds.endswith("[171,193]")
    assert single.wavelength is None


def test_unknown_series_with_given_prime_keys():
    rules = rules_for("su_me.my_series", prime_keys=("T_REC", "WAVELNTH"), step=60.0)
    assert build_recordset(rules, start=T0, end=T1, wavelengths=[1600]).endswith("_TAI][1600]")


# --- The structured record set renders exactly the text of the former string builder ---------------------------

T_UTC = Time("2014-02-05T08:00:00", scale="utc")


def old_build_recordset(
    rules, *, start=None, end=None, cadence=None, wavelengths=(), primekeys=None, keywords=(), segments=()
):
    """The string builder the client had before `RecordSet` (kept here as the reference)."""
    primekeys = dict(primekeys or {})
    values = []
    for key in rules.prime_keys:
        if key == "T_REC" and start is not None:
            values.append(f"{drms_time(start)}-{drms_time(end)}{cadence.at if cadence else ''}")
        elif key == "WAVELNTH" and wavelengths:
            values.append(",".join(str(w) for w in wavelengths))
        else:
            values.append(str(primekeys.pop(key, "")))
    while values and not values[-1]:
        values.pop()
    conditions = []
    if wavelengths and not rules.wavelength_is_prime_key:
        conditions.append(f"WAVELNTH={wavelengths[0]}")
    for name, op, value in keywords:
        text = str(int(value)) if isinstance(value, bool) else f"{value:g}" if isinstance(value, float) else None
        text = text or (str(value) if isinstance(value, int) else f"'{value}'")
        conditions.append(f"{name}{op}{text}")
    text = rules.name + "".join(f"[{v}]" for v in values) + (f"[? {' AND '.join(conditions)} ?]" if conditions else "")
    return text + (f"{{{','.join(segments)}}}" if segments else "")


CASES = [
    ("aia.lev1_euv_12s", {"start": T0, "end": T1}),
    ("aia.lev1_euv_12s", {"start": T0, "end": T1, "wavelengths": [171, 193]}),
    ("aia.lev1_euv_12s", {"start": T_UTC, "end": T1, "cadence": "sample:84", "wavelengths": [171]}),
    ("aia.lev1", {"start": T0, "end": T1, "cadence": "sample:60", "wavelengths": [304]}),
    ("aia.lev1", {"start": T0, "end": T1, "keywords": [("EXPTIME", ">", 1.5), ("QUALITY", "=", 0)]}),
    ("hmi.M_45s", {"start": T0, "end": T1, "segments": ["magnetogram"], "keywords": [("CAMERA", "=", "2")]}),
    ("hmi.M_720s", {"start": T0, "end": T1, "cadence": "sample:3600", "primekeys": {"CAMERA": 3}}),
    ("hmi.sharp_720s", {"primekeys": {"HARPNUM": 377}}),
    ("hmi.sharp_720s", {"primekeys": {"HARPNUM": 377}, "start": T0, "end": T1, "segments": ["Br", "Bp"]}),
    ("aia.lev1_uv_24s", {"start": T0, "end": T1, "keywords": [("FLAG", "=", True)]}),
]


def _selection(series, selection):
    rules = rules_for(series)
    selection = dict(selection)
    if "cadence" in selection:
        selection["cadence"] = resolve_cadence(rules, float(selection["cadence"].split(":")[1]))
    return rules, selection


@pytest.mark.parametrize(("series", "selection"), CASES)
def test_recordset_renders_the_former_text(series, selection):
    rules, selection = _selection(series, selection)
    recordset = make_recordset(rules, **selection)
    assert recordset.render() == str(recordset) == old_build_recordset(rules, **selection)
    assert build_recordset(rules, **selection) == recordset.render()


@pytest.mark.parametrize(("series", "selection"), [c for c in CASES if "start" in c[1]])
def test_replacing_times_renders_like_editing_the_text(series, selection):
    rules, selection = _selection(series, selection)
    recordset = make_recordset(rules, **selection)
    t_a, t_b = Time("2014-02-05T09:00:12", scale="utc"), Time("2014-02-05T10:30:00.250", scale="utc")
    moved = recordset.with_times(t_a, t_b)
    assert moved.render() == old_build_recordset(rules, **{**selection, "start": t_a, "end": t_b})
    assert moved.with_times(end=T1).render() == old_build_recordset(rules, **{**selection, "start": t_a})
    assert recordset.time.start == selection["start"]  # the original is unchanged (frozen values)
    if selection.get("cadence"):
        # the listing of every record of an aia.lev1/hmi.lev1 range: the text without "@..."
        text = recordset.render()
        assert recordset.without_cadence().render() == text.replace(selection["cadence"].at, "", 1)
    else:
        assert recordset.without_cadence() is recordset


def test_paging_replaces_the_times_on_the_cadence_grid():
    rules = rules_for("aia.lev1_euv_12s")
    recordset = make_recordset(rules, start=T0, end=T1, cadence=resolve_cadence(rules, 60), wavelengths=[171])
    pages = page_recordsets(recordset, 3)
    edges = page_edges(T0, T1, 3, 60.0)
    assert [p.render() for p in pages] == [
        f"aia.lev1_euv_12s[{drms_time(x)}-{drms_time(y)}@60s][171]" for x, y in itertools.pairwise(edges)
    ]
    assert pages[0].time.start == T0
    assert pages[-1].time.end == T1
    assert all(((p.time.start - T0).to_value("s") % 60) == pytest.approx(0) for p in pages)
    no_time = make_recordset(rules_for("hmi.sharp_720s"), primekeys={"HARPNUM": 1})
    assert page_recordsets(no_time, 3) == [no_time]


# --- split and limit give structured pieces whose text is the former text ---------------------------------------

_OLD_RANGE = re.compile(r"^(?P<head>[^\[]+\[)(?P<start>[^\]\-@]+?)-(?P<end>[^\]@]+?)(?P<at>@[^\]]+)?(?P<tail>\].*)$")


def old_with_range(ds, start=None, end=None):
    """How split and limit used to edit a record-set string (kept here as the reference)."""
    match = _OLD_RANGE.match(ds)
    start = drms_time(start) if start is not None else match["start"]
    end = drms_time(end) if end is not None else match["end"]
    return f"{match['head']}{start}-{end}{match['at'] or ''}{match['tail']}"


def _request(series, n, step, cadence=None, limit=0):
    rules = rules_for(series)
    t0 = Time("2014-02-05T08:00:00", scale="utc")
    t_rec = t0 + np.arange(n) * step * u.s
    cad = resolve_cadence(rules, cadence) if cadence else None
    recordset = make_recordset(rules, start=t0, end=t_rec[-1], cadence=cad, wavelengths=[171] if rules.is_aia else [])
    location = ImPatchLocation("arcsec", 0.0, 0.0, "arcsec", 100.0, 100.0)
    plan = ExportPlan(
        series, recordset, Process((ImPatch(location, t_ref=t0),), limit), "0.01", "url", "fits", "f", None, None
    )
    columns = {"T_REC": t_rec, "bytes": np.full(n, 1000), "QUALITY": np.zeros(n, dtype=np.int64)}
    return SearchedRequest(plan, location, columns, rules=rules)


@pytest.mark.parametrize(("series", "step", "cadence", "sparse"), [
    ("aia.lev1_euv_12s", 12.0, None, False),
    ("aia.lev1_euv_12s", 60.0, 60, False),
    ("aia.lev1", 60.0, 60, True),
    ("hmi.M_45s", 45.0, None, False),
])  # fmt: skip
def test_split_pieces_render_the_former_text(series, step, cadence, sparse):
    request = _request(series, 350, step, cadence)
    pieces = split_request(request, 100, sparse=sparse)
    assert len(pieces) == 4
    starts = [int(np.searchsorted(request.columns["T_REC"].unix, p.columns["T_REC"][0].unix)) for p in pieces]
    expected = []
    for k, first in enumerate(starts):
        t_rec = request.columns["T_REC"]
        if k + 1 == len(starts):
            end = None
        elif sparse:
            end = t_rec[starts[k + 1]] - 1 * u.s
        else:
            end = t_rec[starts[k + 1] - 1]
        expected.append(old_with_range(request.plan.ds, t_rec[first], end))
    assert [p.plan.ds for p in pieces] == expected
    assert all(isinstance(p.plan.recordset, RecordSet) for p in pieces)
    assert {p.plan.process for p in pieces} == {request.plan.process}


@pytest.mark.parametrize(("limit", "sparse"), [(5, False), (-5, False), (5, True)])
def test_limited_pieces_render_the_former_text(limit, sparse):
    series = "aia.lev1" if sparse else "aia.lev1_euv_12s"
    request = _request(series, 20, 12.0, limit=limit)
    (cut,) = limit_records([request])
    t_rec = request.columns["T_REC"]
    if limit > 0:
        expected = old_with_range(request.plan.ds, end=t_rec[5] - 1 * u.s if sparse else t_rec[4])
    else:
        expected = old_with_range(request.plan.ds, start=t_rec[15])
    assert cut.plan.ds == expected
    assert isinstance(cut.plan.recordset, RecordSet)
    assert cut.plan.process == request.plan.process.replace(f"n={limit}|", "n=0|", 1)
    assert cut.plan.steps.limit == 0
    assert len(cut.columns["T_REC"]) == 5
