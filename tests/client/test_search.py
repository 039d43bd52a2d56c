"""Fido.search through JSOCCutoutClient against the emulator: rows, counts, flags, sizes, plan."""

import numpy as np
import pytest
from test_refusals import search_error

import astropy.units as u
from astropy.coordinates import SkyCoord

import sunpy.net.attrs as a
from sunpy.coordinates import frames
from sunpy.net import Fido
from sunpy.util.exceptions import SunpyUserWarning

import sunpy_jsoc_cutout  # noqa: F401  (registers the client)
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout import config
from sunpy_jsoc_cutout._jsoc import info as info_module
from sunpy_jsoc_cutout._plan.frames import estimate_bytes
from sunpy_jsoc_cutout._query import box as box_module
from sunpy_jsoc_cutout._query.box import ActiveRegion
from sunpy_jsoc_cutout.config import conf
from sunpy_jsoc_cutout.exceptions import CutoutQueryError, UnknownActiveRegionError

GUIDE_TIME = a.Time("2014-02-05 08:00", "2014-02-05 16:00")
GUIDE_WAVES = jc.Wavelengths(171 * u.AA, 193 * u.AA, 211 * u.AA, 304 * u.AA)
GUIDE_BOX = jc.Box.carrington(100 * u.deg, 10 * u.deg, 500 * u.pix, 500 * u.pix)


def per_wavelength(table):
    waves = np.asarray(table["Wavelength"].to_value(u.AA)).astype(int)
    return {int(w): int((waves == w).sum()) for w in np.unique(waves)}


def test_guide_example_finds_2401_and_2400_records(jsoc):
    result = Fido.search(GUIDE_TIME, a.jsoc.Series("aia.lev1"), GUIDE_WAVES, GUIDE_BOX, jc.Tracking(True))
    assert result.keys() == ["jsoccutout"]
    assert per_wavelength(result["jsoccutout"]) == {171: 2401, 193: 2400, 211: 2400, 304: 2400}


def test_guide_example_at_one_minute_finds_480_per_wavelength(jsoc):
    result = Fido.search(
        GUIDE_TIME, a.jsoc.Series("aia.lev1"), GUIDE_WAVES, GUIDE_BOX, jc.Tracking(True), a.Sample(60 * u.s)
    )
    table = result["jsoccutout"]
    assert per_wavelength(table) == {171: 480, 193: 480, 211: 480, 304: 480}
    # one wavelength per request, each with im_patch's cadence and @60s; the last request ends in a
    # smaller piece, so that little download is left once JSOC's last staging ends
    assert [p.wavelength for p in table.plans] == [171, 193, 211, 304, 304]
    last = [int((np.asarray(table["Request"]) == k).sum()) for k in (3, 4)]
    assert sum(last) == 480
    assert last[0] > last[1]
    assert all("@60s" in p.ds and ",cadence=60s," in p.process for p in table.plans)


def test_rows_flags_sizes_and_plan_text(jsoc):
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:10"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec),
    )
    table = result["jsoccutout"]
    assert {"T_REC", "T_OBS", "Wavelength", "Instrument", "QUALITY", "Skip", "Size"} <= set(table.colnames)
    good = np.asarray(table["Skip"]) == ""
    assert good.sum() >= 45
    # 345.6" at 171 A's CDELT1 gives int(1 + 345.6/CDELT1) pixels a side, float32
    assert np.all(table["Size"][good] > 577 * 577 * 4 * u.byte)
    assert np.all(table["Size"][good] < 580 * 580 * 4 * u.byte + 30000 * u.byte)
    assert table.total_size() > 45 * 1.3 * u.Mbyte
    text = str(result)
    assert "Export plan: 1 JSOC request(s)" in text
    assert "im_patch" in text
    assert "sizeratio=" in text
    assert "Export plan" in table._repr_html_()


def test_frames_jsoc_will_skip_are_flagged(jsoc):
    result = Fido.search(GUIDE_TIME, a.jsoc.Series("aia.lev1"), a.Wavelength(171 * u.AA), GUIDE_BOX)
    table = result["jsoccutout"]
    bad = np.asarray(table["QUALITY"]) < 0
    assert bad.any()
    assert set(np.asarray(table["Skip"])[bad]) == {"QUALITY < 0"}
    assert np.all(table["Size"][bad] == 0)
    assert "Skipped by JSOC" in str(table)


def test_untracked_box_off_the_image_is_refused_not_exported(jsoc):
    # Every row would be "box off the image": the search refuses instead of planning an empty export
    # (the flag itself: test_frames.py; the refusal's message: test_refusals.py).
    box = jc.Box([5000, 2048] * u.pix, 100 * u.pix)
    query = (
        a.Time("2014-02-05 08:00", "2014-02-05 08:02"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        box,
        jc.Tracking(False),
    )
    error = search_error(*query)  # raised (sunpy 7.0) or kept in .errors (sunpy >= 7.1)
    assert isinstance(error, CutoutQueryError)
    assert "box off the image" in str(error)
    assert not [e for e in jsoc.request_log if e["params"].get("op") == "exp_request"]


def test_large_searches_are_paged(jsoc):
    query = (GUIDE_TIME, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), GUIDE_BOX)
    whole = Fido.search(*query)["jsoccutout"]
    before = len(jsoc.request_log)
    with conf.set_temp("page_size", 500):
        paged = Fido.search(*query)["jsoccutout"]
    lists = [e for e in jsoc.request_log.since(before) if e["params"].get("op") == "rs_list"]
    assert len(lists) >= 5  # reference record + at least four pages
    assert len(paged) == len(whole) == 2401
    assert np.all(np.asarray(paged["recnum"]) == np.asarray(whole["recnum"]))
    # only the keywords a row needs are asked for
    assert all(e["params"]["key"].count(",") < 20 for e in lists)


def test_paging_keeps_the_cadence_phase(jsoc):
    # DRMS counts @-slots from each range's own start: pages must start on the whole range's grid,
    # or a page keeps other records than the unpaged search (and than the export).
    query = (GUIDE_TIME, a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA), GUIDE_BOX, a.Sample(84 * u.s))
    whole = Fido.search(*query)["jsoccutout"]
    before = len(jsoc.request_log)
    with conf.set_temp("page_size", 50):
        paged = Fido.search(*query)["jsoccutout"]
    pages = [
        e for e in jsoc.request_log.since(before) if e["params"].get("op") == "rs_list" and "@84s" in e["params"]["ds"]
    ]
    assert len(pages) >= 4
    assert len(whole) == 343  # 8 h at 84 s: slots 0..342
    assert np.all(np.asarray(paged["recnum"]) == np.asarray(whole["recnum"]))
    t_rec = np.asarray(paged["T_REC"].tai.unix)
    assert np.allclose(np.diff(t_rec), 84.0)


def test_sunpy_cutout_attr_is_translated_beside_ours(jsoc):
    bl = SkyCoord(-600 * u.arcsec, -300 * u.arcsec, frame=frames.Helioprojective, obstime="2014-02-05 08:00")
    cutout = a.jsoc.Cutout(bl, width=200 * u.arcsec, height=100 * u.arcsec)
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:01"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        cutout,
        jc.Crop(True),
    )
    process = result["jsoccutout"].plans[0].process
    # sunpy's Cutout means no tracking (t=1), the centre and size in arcsec, observer SDO
    assert ",t=1," in process
    assert ",c=1," in process
    assert "x=-500,y=-250,width=200,height=100" in process


def noaa_lookups(jsoc):
    return [e["params"]["ds"] for e in jsoc.request_log if "noaa" in e["params"].get("ds", "").lower()]


AR_QUERY = (a.Time("2014-02-05 08:00", "2014-02-05 08:01"), a.jsoc.Series("aia.lev1_euv_12s"), a.Wavelength(171 * u.AA))


def test_the_noaa_series_names_have_one_home():
    # config defines them (conf.noaa_series defaults to the public copy); the attr and the search use those.
    assert type(config.conf).noaa_series.defaultvalue == config.NOAA_SERIES == "jsoc.noaa_active_regions"
    assert box_module.NOAA_SERIES is config.NOAA_SERIES
    assert box_module.NOAA_SERIES_INTERNAL is config.NOAA_SERIES_INTERNAL
    assert ActiveRegion(1967, 200 * u.arcsec).series == config.NOAA_SERIES


def test_active_region_is_resolved_through_the_public_noaa_series(jsoc):
    # The public JSOC serves the regions as jsoc.noaa_active_regions (export_db_functions.sql); the
    # export page reads su_rsb.NOAA_ActiveRegions through the internal jsoc_info_jsoc2 only.
    jsoc.hide_series("su_rsb.NOAA_ActiveRegions")
    result = Fido.search(*AR_QUERY, ActiveRegion(1967, 200 * u.arcsec))
    assert "locunits=stony" in result["jsoccutout"].plans[0].process
    assert noaa_lookups(jsoc) == ["jsoc.noaa_active_regions[? RegionNumber=11967 ?]"]


def test_active_region_falls_back_to_su_rsb_where_the_public_copy_is_missing(jsoc):
    jsoc.hide_series("jsoc.noaa_active_regions")
    result = Fido.search(*AR_QUERY, ActiveRegion(1967, 200 * u.arcsec))
    assert "locunits=stony" in result["jsoccutout"].plans[0].process
    assert noaa_lookups(jsoc) == [
        "jsoc.noaa_active_regions[? RegionNumber=11967 ?]",
        "su_rsb.NOAA_ActiveRegions[? RegionNumber=11967 ?]",
    ]


def test_unknown_active_region_says_so(jsoc):
    with pytest.raises(UnknownActiveRegionError, match=r"not in jsoc\.noaa_active_regions"):
        jsoc_client_search(ActiveRegion(19999, 100 * u.arcsec))


def jsoc_client_search(box):
    from sunpy_jsoc_cutout.client import JSOCCutoutClient  # noqa: PLC0415

    return JSOCCutoutClient().search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:01"), a.jsoc.Series("aia.lev1_euv_12s"), box
    )


def test_coaligned_aia_and_hmi_in_one_block(jsoc):
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:05"),
        jc.CoalignedSeries("aia.lev1_euv_12s", "hmi.M_45s"),
        jc.Wavelengths(171 * u.AA, 304 * u.AA),
        jc.Box([-300, 200] * u.arcsec, 200 * u.arcsec),
        jc.ReferenceTime("2014-02-05 08:00"),
    )
    assert len(result) == 1  # one block, so one fetch plans across both instruments
    table = result["jsoccutout"]
    assert {p.series for p in table.plans} == {"aia.lev1_euv_12s", "hmi.M_45s"}
    assert set(np.unique(table["Wavelength"].to_value(u.AA))) == {171, 304, 6173}

    def box_args(process):
        args = dict(part.split("=", 1) for part in process.split("|")[1].split(",")[1:] if "=" in part)
        return {k: args[k] for k in ("locunits", "boxunits", "x", "y", "width", "height", "t_ref")}

    boxes = [box_args(p.process) for p in table.plans]
    assert boxes[0] == boxes[1]  # same centre, reference time and angular size


def test_padding_for_drift_reaches_the_size_estimate(jsoc):
    def search(tracking):
        return Fido.search(
            a.Time("2014-02-05 08:00", "2014-02-07 08:00"),
            a.jsoc.Series("aia.lev1_euv_12s"),
            a.Wavelength(171 * u.AA),
            jc.Box.carrington(100 * u.deg, 40 * u.deg, 100 * u.pix, 100 * u.pix),
            tracking,
            a.Sample(12 * u.h),
        )["jsoccutout"]

    with pytest.warns(SunpyUserWarning, match="drift apart"):
        plain = search(jc.Tracking(True))
    padded = search(jc.Tracking(True, pad_for_drift=True))
    width = float(padded.plans[0].process.split("width=")[1].split(",")[0])
    assert width > 100
    good = np.asarray(padded["Skip"]) == ""
    # the rows are sized with the box as it is sent (padded), not the box as it was asked
    assert np.all(padded["Size"][good] > plain["Size"][good])
    expected = estimate_bytes(np.array([round(width) ** 2]))[0] * u.byte
    assert u.allclose(padded["Size"][good][0], expected)


def test_offline_records_are_planned_files_that_jsoc_stages(jsoc, email, tmp_path):
    # jsoc_info answers NoDataDirectory for data on tape as for a record without an image
    # (jsoc_info.c); before, the plan called every offline record "no image" and expected no file.
    query = (
        a.Time("2014-02-05 08:00", "2014-02-05 08:02"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        jc.Box([-517.2, -246] * u.arcsec, 120 * u.arcsec),
        a.jsoc.Notify(email),
    )
    online = Fido.search(*query)["jsoccutout"]
    jsoc.set_export_faults(tape=True)
    result = Fido.search(*query)
    table = result["jsoccutout"]
    good = np.asarray(online["Skip"]) == ""
    assert good.sum() >= 9
    assert np.all(np.asarray(table["Skip"]) == np.asarray(online["Skip"]))  # nothing newly "missing"
    assert not np.asarray(table["Online"], dtype=bool)[good].any()
    [note] = [line for line in table.plan_lines() if line.startswith("  Offline (on tape)")]
    assert f"{int(good.sum())} records in 1 request(s)" in note
    assert "about 5 min more" in note  # conf.tape_staging_time (300 s) per request
    files = Fido.fetch(result, path=tmp_path / "{file}")
    assert not files.errors
    assert len(files) == good.sum()


@pytest.mark.parametrize(
    ("box", "tracking", "asks_tracking_keys"),
    [(GUIDE_BOX, True, True), (jc.Box([0, 0] * u.arcsec, 300 * u.arcsec), False, False)],
)
def test_rows_are_listed_with_only_the_keywords_they_need(jsoc, box, tracking, asks_tracking_keys):
    before = len(jsoc.request_log)
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:10"), a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA), box, jc.Tracking(tracking),
    )  # fmt: skip
    assert len(result["jsoccutout"]) == 51
    lists = [e["params"] for e in jsoc.request_log.since(before) if e["params"].get("op") == "rs_list"]
    rows = [set(p["key"].split(",")) for p in lists if "*recnum*" in p["key"]]  # the rows, not the reference record
    assert rows
    for keys in rows:
        assert {"T_REC", "QUALITY", "CDELT1"} <= keys
        tracking_keys = {"CRLN_OBS", "CRLT_OBS", "CRPIX1", "CRPIX2", "CROTA2", "DSUN_OBS", "RSUN_REF"}
        assert (tracking_keys <= keys) is asks_tracking_keys
        assert bool(keys & tracking_keys) is asks_tracking_keys


def test_lev1_cadence_lists_the_rows_keywords_of_the_chosen_frames_only(jsoc, monkeypatch):
    # every frame of the range is listed with what im_patch's choice reads; the rows' keywords come
    # for the frames it chooses, named by record number ([:#r1,#r2,...]), a few at a time here
    monkeypatch.setattr(info_module, "RECNUMS_PER_CALL", 7)
    before = len(jsoc.request_log)
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 09:00"), a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA), GUIDE_BOX, a.Sample(60 * u.s),
    )  # fmt: skip
    table = result["jsoccutout"]
    lists = [e["params"] for e in jsoc.request_log.since(before) if e["params"].get("op") == "rs_list"]
    frames = [p for p in lists if p["key"] == "*recnum*,T_REC,QUALITY"]
    by_recnum = [p for p in lists if "[:#" in p["ds"]]
    assert frames
    assert all("@" not in p["ds"] and "seg" not in p for p in frames)
    named = [int(r) for p in by_recnum for r in p["ds"].split("[:", 1)[1].rstrip("]").replace("#", "").split(",")]
    assert sorted(named) == sorted(int(r) for r in table["recnum"])
    assert all("QUALITY" in p["key"] and "DSUN_OBS" in p["key"] and p.get("seg") for p in by_recnum)
    assert len(by_recnum) >= 120 / 7
    assert per_wavelength(table) == {171: 60, 193: 60}
