"""
Walker + builders: each attr, alone and combined, gives an exact ``process`` and record-set string.

Expected strings are written by hand from the references: drms's worked cut-out example
(``sunpy/drms:examples/cutout_export_request.py``), the export-page query recorded in sunpy/drms
issue #25, the user's guide and the im_patch argument order of ``processing.js``.
"""

import pytest

import astropy.units as u
from astropy.time import Time

import sunpy.net.attrs as a
from sunpy.util.exceptions import SunpyUserWarning

from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.boxgeometry import degree_box_arcsec
from sunpy_jsoc_cutout._plan.checks import check_block
from sunpy_jsoc_cutout._plan.jsoc_text import number
from sunpy_jsoc_cutout._plan.noaa import noaa_query, resolve_active_region
from sunpy_jsoc_cutout._plan.plans import plan_block
from sunpy_jsoc_cutout._query.walker import walker

# A 2015-10-17 SDO record (position values of the right size; only on-disk checks use them).
KW = {
    "HGLN_OBS": 0.0123,
    "HGLT_OBS": 5.9,
    "DSUN_OBS": 1.4897e11,
    "T_OBS": "2015-10-17T04:33:30.57Z",
    "CRLN_OBS": 100.0,
    "CALVER": 0,
    "RSUN_REF": 6.96e8,
}
BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
PAGE_TIME = a.Time("2015-10-17T04:33:30", "2015-10-17T09:33:30")
EUV = a.jsoc.Series("aia.lev1_euv_12s")
IM_PATCH_PAGE = (
    "im_patch,t_start=2015-10-17T04:33:30.000,t_stop=2015-10-17T09:33:30.000,t=0,r=0,c=0,{cad}"
    "locunits=arcsec,boxunits=arcsec,t_ref=2015-10-17T04:33:30.000,x=-517.2,y=-246,width=345.6,height=345.6"
)
IM_PATCH = IM_PATCH_PAGE.format(cad="")
DS_PAGE = "aia.lev1_euv_12s[2015.10.17_04:34:06_TAI-2015.10.17_09:34:06_TAI]"


def plans(query, keywords=KW, **kwargs):
    out = []
    for block in walker.create(query):
        for rules in check_block(block):
            out.extend(plan_block(block, rules, keywords, **kwargs)[1])
    return out


def only(query, **kwargs):
    (plan,) = plans(query, **kwargs)
    return plan


def test_recorded_export_page_query():
    # sunpy/drms#25: process=n=0|im_patch,t_start=...,cadence=84s,... with method=url-tar
    plan = only(
        PAGE_TIME
        & EUV
        & a.Wavelength(171 * u.AA)
        & a.Sample(84 * u.s)
        & BOX
        & jc.Tracking(True)
        & jc.Register(False)
        & jc.Crop(False)
        & jc.Method("url-tar")
    )
    assert plan.process == "n=0|" + IM_PATCH_PAGE.format(cad="cadence=84s,")
    assert plan.ds == "aia.lev1_euv_12s[2015.10.17_04:34:06_TAI-2015.10.17_09:34:06_TAI@84s][171]"
    assert plan.method == "url-tar"
    assert plan.protocol == "fits"
    assert plan.filenamefmt == "aia.lev1_euv_12s.{T_REC:A}.{WAVELNTH}.{segment}"


def test_drms_worked_example():
    # drms: ds=aia.lev1_euv_12s[2025-01-01T04:33:30.000/1m@12s][171]{image}, process=n=0|im_patch,t_ref=...,
    # t=0,r=0,c=0,locunits=arcsec,boxunits=arcsec,x=-517.2,y=-246,width=345.6,height=345.6
    keywords = {**KW, "T_OBS": "2025-01-01T04:33:30.57Z", "HGLT_OBS": -3.0, "DSUN_OBS": 1.471e11}
    query = (
        a.Time("2025-01-01T04:33:30", "2025-01-01T04:34:18")
        & EUV
        & a.Wavelength(171 * u.AA)
        & a.Sample(12 * u.s)
        & a.jsoc.Segment("image")
        & BOX
    )
    plan = only(query, keywords=keywords)
    # UTC 04:33:30 is 04:34:07 TAI (37 s); /1m (half-open) is the inclusive range ending at the last 12 s slot.
    assert plan.ds == "aia.lev1_euv_12s[2025.01.01_04:34:07_TAI-2025.01.01_04:34:55_TAI@12s][171]{image}"
    step, *args = plan.process.split("|")[1].split(",")
    drms_args = dict(
        kv.split("=")
        for kv in "t_ref=2025-01-01T04:33:30.000,t=0,r=0,c=0,locunits=arcsec,"
        "boxunits=arcsec,x=-517.2,y=-246,width=345.6,height=345.6".split(",")
    )
    sent = dict(kv.split("=") for kv in args)
    assert step == "im_patch"
    assert {k: sent[k] for k in drms_args} == drms_args
    assert sent["cadence"] == "12s"
    assert (sent["t_start"], sent["t_stop"]) == ("2025-01-01T04:33:30.000", "2025-01-01T04:34:18.000")


def test_guide_aia_lev1_query_one_request_per_wavelength():
    # The guide: aia.lev1, 2014-02-05 08:00-16:00, 171/193/211/304, one image per minute.
    t0, t1 = Time("2014-02-05T08:00:00", scale="tai"), Time("2014-02-05T16:00:00", scale="tai")
    query = (
        a.Time(t0, t1)
        & a.jsoc.Series("AIA.lev1")
        & jc.Wavelengths([171, 193, 211, 304] * u.AA)
        & a.Sample(1 * u.min)
        & BOX
    )
    got = plans(query)
    assert [p.ds for p in got] == [
        f"aia.lev1[2014.02.05_08:00:00_TAI-2014.02.05_16:00:00_TAI@60s][? WAVELNTH={w} ?]" for w in (171, 193, 211, 304)
    ]
    assert [p.wavelength for p in got] == [171, 193, 211, 304]
    assert all(",cadence=60s," in p.process for p in got)


def test_no_sample_no_cadence_and_keyword_filter():
    query = PAGE_TIME & a.jsoc.Series("aia.lev1") & a.Wavelength(304 * u.AA) & (a.jsoc.Keyword("QUALITY") == 0) & BOX
    plan = only(query)
    assert plan.ds == "aia.lev1[2015.10.17_04:34:06_TAI-2015.10.17_09:34:06_TAI][? WAVELNTH=304 AND QUALITY=0 ?]"
    assert plan.process == "n=0|" + IM_PATCH


@pytest.mark.parametrize(
    ("attr", "expected"),
    [
        (jc.Tracking(False), IM_PATCH.replace("t=0", "t=1")),
        (jc.Register(True), IM_PATCH.replace("r=0", "r=1")),
        (jc.Crop(True), IM_PATCH.replace("c=0", "c=1")),
        (jc.FullHeaders(True), IM_PATCH.replace("c=0,", "c=0,h=1,")),
        (jc.RecordLimit(-5), IM_PATCH),
        (jc.Level1p5(), "aia_scale_aialev1|" + IM_PATCH),
        (jc.Rebin(0.25), IM_PATCH + "|rebin,u=0,scale=0.25,method=boxcar"),
        (
            jc.Rebin(0.5, "gaussian", fwhm=4, nvector=9),
            IM_PATCH + "|rebin,u=0,scale=0.5,method=gaussian,FWHM=4,nvector=9",
        ),
        (
            jc.ReferenceTime("2015-10-17T06:00:00"),
            IM_PATCH.replace("t_ref=2015-10-17T04:33:30.000", "t_ref=2015-10-17T06:00:00.000"),
        ),
    ],
)
def test_each_processing_attr(attr, expected):
    query = PAGE_TIME & EUV & BOX & attr
    with pytest.warns(SunpyUserWarning, match="aia_respike") if isinstance(attr, jc.Register) else _nothing():
        plan = only(query)
    limit = -5 if isinstance(attr, jc.RecordLimit) else 0
    assert plan.process == f"n={limit}|{expected}"
    assert plan.ds == DS_PAGE


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize(
    ("attr", "field", "value"),
    [
        (jc.Method("url-tar"), "method", "url-tar"),
        (
            jc.ExportProtocol("jpg", color_table="aia_171", scaling="LOG", min=1, max=3000),
            "protocol",
            "jpg,CT=aia_171,scaling=LOG,size=1,min=1,max=3000",
        ),
        (jc.ExportProtocol("mp4", size=2), "protocol", "mp4,CT=grey.sao,scaling=MINMAX,size=2"),
        (a.jsoc.Protocol("FITS"), "protocol", "fits"),
        (
            jc.FilenameFormat("{seriesname}.{T_REC:A}.{WAVELNTH}.cut.{segment}"),
            "filenamefmt",
            "{seriesname}.{T_REC:A}.{WAVELNTH}.cut.{segment}",
        ),
        (jc.Requestor("FirstLast"), "requestor", "FirstLast"),
        (a.jsoc.Segment("image"), "ds", DS_PAGE + "{image}"),
        (a.jsoc.PrimeKey("WAVELNTH", "94"), "ds", DS_PAGE + "[94]"),
        (jc.Wavelengths(171 * u.AA, 193 * u.AA), "ds", DS_PAGE + "[171,193]"),
    ],
)
def test_each_export_attr(attr, field, value):
    assert getattr(only(PAGE_TIME & EUV & BOX & attr), field) == value


def test_level1p5_on_aia_lev1_with_pointing_table():
    plan = only(
        PAGE_TIME & a.jsoc.Series("aia.lev1") & a.Wavelength(171 * u.AA) & BOX & jc.Level1p5("aia.master_pointing3h")
    )
    assert plan.process == "n=0|aia_scale_orig,mpt=aia.master_pointing3h|" + IM_PATCH


def test_sample_not_a_multiple_of_the_slot_warns_and_rounds():
    with pytest.warns(SunpyUserWarning, match="effective cadence is 96 s"):
        plan = only(PAGE_TIME & EUV & a.Sample(90 * u.s) & BOX)
    assert "@96s]" in plan.ds
    assert ",cadence=96s," in plan.process


def test_coaligned_aia_and_hmi_share_centre_time_and_angular_size():
    query = PAGE_TIME & jc.CoalignedSeries("aia.lev1_euv_12s", "hmi.M_45s") & a.Wavelength(171 * u.AA) & BOX
    aia, hmi = plans(query)
    assert aia.ds == DS_PAGE + "[171]"
    assert hmi.ds == "hmi.M_45s[2015.10.17_04:34:06_TAI-2015.10.17_09:34:06_TAI]"
    assert aia.process == hmi.process == "n=0|" + IM_PATCH
    assert hmi.filenamefmt == "hmi.m_45s.{T_REC:A}.{CAMERA}.{segment}"


def test_carrington_box_sends_car_rot():
    plan = only(PAGE_TIME & EUV & jc.Box.carrington(120 * u.deg, 12 * u.deg, 10 * u.deg, car_rot=2168))
    args = plan.process.split("|")[1]
    # a 10 deg box is sent as the arcsec box im_patch's BOXDEGREE block would size (issue 10)
    assert ",locunits=carrlong,boxunits=arcsec,t_ref=" in args
    width, height = degree_box_arcsec(10, 10, 12, KW)
    assert args.endswith(f",car_rot=2168,x=120,y=12,width={number(width)},height={number(height)}")


def test_active_region_resolves_like_the_export_page():
    region = jc.ActiveRegion(2434, 200 * u.arcsec)  # 2434 < 7000: NOAA 12434
    assert noaa_query(region) == {
        "op": "rs_list",
        "ds": "jsoc.noaa_active_regions[? RegionNumber=12434 ?]",
        "key": "ObservationTime,LatitudeHG,LongitudeCM",
    }
    rows = [
        {"ObservationTime": "2015.10.16_00:00:00_TAI", "LatitudeHG": "-10", "LongitudeCM": "-14"},
        {"ObservationTime": "2015.10.17_00:00:00_TAI", "LatitudeHG": "-10", "LongitudeCM": "-1"},
        {"ObservationTime": "2015.10.18_00:00:00_TAI", "LatitudeHG": "-11", "LongitudeCM": "12"},
    ]
    box, t_ref = resolve_active_region(region, rows, {**KW, "HGLN_OBS": 0.0})
    plan = only(PAGE_TIME & EUV & region, box=box, t_ref=t_ref)
    assert plan.process == (
        "n=0|im_patch,t_start=2015-10-17T04:33:30.000,t_stop=2015-10-17T09:33:30.000,t=0,r=0,"
        "c=0,locunits=stony,boxunits=arcsec,t_ref=2015-10-16T23:59:24.000,x=-1,y=-10,"
        "width=200,height=200"
    )


def test_limb_to_limb_sends_explicit_times():
    query = (
        EUV
        & jc.Box.stonyhurst(0 * u.deg, 10 * u.deg, 300 * u.arcsec)
        & jc.ReferenceTime("2015-10-17T04:33:30")
        & jc.Tracking(start="east_limb", stop="west_limb", pad_for_drift=True)
    )
    plan = only(query)
    args = dict(kv.split("=") for kv in plan.process.split("|")[1].split(",")[1:])
    start, stop = Time(args["t_start"]), Time(args["t_stop"])
    assert 13 < (stop - start).to_value(u.day) < 14
    assert abs((start + (stop - start) / 2 - Time("2015-10-17T04:33:30")).to_value(u.day)) < 0.5
    assert float(args["width"]) > 300  # padded for drift
    assert plan.ds.startswith("aia.lev1_euv_12s[2015.10.")


def test_long_tracked_run_without_padding_warns_about_drift():
    query = a.Time("2015-10-15", "2015-10-19") & EUV & jc.Box.stonyhurst(0 * u.deg, 30 * u.deg, 60 * u.arcsec)
    with pytest.warns(SunpyUserWarning, match="pad_for_drift"):
        only(query)


def test_or_gives_one_block_per_branch():
    query = PAGE_TIME & EUV & BOX & (a.Wavelength(171 * u.AA) | a.Wavelength(304 * u.AA))
    assert [p.ds for p in plans(query)] == [DS_PAGE + "[171]", DS_PAGE + "[304]"]
