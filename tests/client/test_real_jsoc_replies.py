"""
Contract tests: the client's metadata readers on the reply shapes the real JSOC sent.

No emulator here: the replies are transcribed from recordings of jsoc.stanford.edu (April 2020,
sunpy/sunpy commit b361c0cd, ``sunpy/net/jsoc/tests/cassettes``; trimmed where said) and served on
loopback by `replay.ReplayJSOC`, so a reply shape the client misreads fails here even when the
emulator shares the misreading.
"""

import json

import numpy as np
import pytest
from replay import ReplayJSOC

from astropy.time import Time

from sunpy_jsoc_cutout._jsoc.info import JSOCInfo, reference_keywords
from sunpy_jsoc_cutout._plan.jsoc_text import int_keyword, is_absent
from sunpy_jsoc_cutout._plan.rows import REFERENCE_KEYS, ROW_KEYS, calver_of, times_or
from sunpy_jsoc_cutout._plan.series_rules import rules_for

# ``series_struct`` of aia.lev1_euv_12s (cassette test_search_metadata.yaml): prime keys, the
# T_REC slot facts and the keywords the client can use, in the recorded order. The recording
# lists 177 keywords and neither CALVER64 nor CALVER32 (AIA level 1 writes CALVER32 into aia.lev1
# only); trimmed to these names, types kept.
AIA_EUV_12S_STRUCT = {
    "note": "AIA Level 1, 12 second cadence",
    "primekeys": ["T_REC", "WAVELNTH"],
    "primekeysinfo": [{"name": "T_REC", "slotted": 1, "step": "12.000000"}, {"name": "WAVELNTH", "slotted": 0}],
    "keywords": [
        {"name": n, "type": t}
        for n, t in [
            ("T_REC", "time"),
            ("T_OBS", "time"),
            ("WAVELNTH", "int"),
            ("DATE", "time"),
            ("FSN", "int"),
            ("EXPTIME", "double"),
            ("QUALITY", "int"),
            ("INSTRUME", "string"),
            ("CAMERA", "int"),
            ("CDELT1", "float"),
            ("CRPIX1", "float"),
            ("CRPIX2", "float"),
            ("CROTA2", "float"),
            ("DSUN_OBS", "double"),
            ("RSUN_REF", "double"),
            ("RSUN_OBS", "double"),
            ("CRLN_OBS", "float"),
            ("CRLT_OBS", "float"),
            ("CAR_ROT", "int"),
            ("HGLN_OBS", "float"),
            ("HGLT_OBS", "float"),
            ("T_REC_step", "double"),
            ("T_REC_epoch", "time"),
        ]
    ],
    "segments": [{"name": "image"}, {"name": "spikes"}],
    "status": 0,
}

# ``series_struct`` of hmi.M_45s (cassette test_build_table.yaml, ds=hmi.m_45s): 90 keywords with
# CRLN_OBS, CRLT_OBS, DSUN_OBS and CALVER64, and no HGLN_OBS, HGLT_OBS or EXPTIME; trimmed.
HMI_M_45S_STRUCT = {
    "primekeys": ["T_REC", "CAMERA"],
    "primekeysinfo": [{"name": "T_REC", "slotted": 1, "step": "45.000000"}, {"name": "CAMERA", "slotted": 0}],
    "keywords": [
        {"name": n}
        for n in (
            "T_REC",
            "CAMERA",
            "T_OBS",
            "QUALITY",
            "INSTRUME",
            "WAVELNTH",
            "CDELT1",
            "CRPIX1",
            "CRPIX2",
            "CROTA2",
            "DSUN_OBS",
            "RSUN_REF",
            "RSUN_OBS",
            "CRLN_OBS",
            "CRLT_OBS",
            "CAR_ROT",
            "CALVER64",
        )
    ],
    "segments": [{"name": "magnetogram"}],
    "status": 0,
}

# rs_list of hmi.M_45s, verbatim (cassette test_build_table.yaml).
HMI_RS_LIST = (
    '{"keywords":[{"name":"T_REC","values":["2012.01.01_00:00:45_TAI","2012.01.01_00:01:30_TAI"]},'
    '{"name":"TELESCOP","values":["SDO\\/HMI","SDO\\/HMI"]},{"name":"INSTRUME","values":["HMI_FRONT2","HMI_FRONT2"]},'
    '{"name":"WAVELNTH","values":["6173.0","6173.0"]},{"name":"CAR_ROT","values":["2118","2118"]}],'
    '"segments":[],"links":[],"count":2,"runtime":0.065,"status":0}'
)


@pytest.fixture
def replay():
    with ReplayJSOC() as server:
        server.answer("jsoc_info", AIA_EUV_12S_STRUCT, op="series_struct", ds="aia.lev1_euv_12s")
        server.answer("jsoc_info", HMI_M_45S_STRUCT, op="series_struct", ds="hmi.M_45s")
        yield server


def test_each_series_is_asked_only_for_keywords_it_has(replay):
    info = JSOCInfo(replay.url)
    aia, hmi = info.series("aia.lev1_euv_12s"), info.series("hmi.M_45s")
    assert {"CALVER64", "CALVER32"}.isdisjoint(aia.present(REFERENCE_KEYS))
    assert {"HGLN_OBS", "HGLT_OBS"} <= set(aia.present(REFERENCE_KEYS))
    assert {"HGLN_OBS", "HGLT_OBS", "CALVER32"}.isdisjoint(hmi.present(REFERENCE_KEYS))
    assert {"CALVER64", "CRLN_OBS", "CRLT_OBS", "DSUN_OBS"} <= set(hmi.present(REFERENCE_KEYS))
    assert {"*recnum*", "CAMERA"} <= set(hmi.present(ROW_KEYS))
    assert (aia.image_segment, hmi.image_segment) == ("image", "magnetogram")
    # one series_struct per series and JSOC URL, however often it is asked
    info.series("aia.lev1_euv_12s")
    assert sum(1 for _, p in replay.log if p.get("op") == "series_struct") == 2


def test_recorded_rs_list_reads_into_columns(replay):
    replay.answer("jsoc_info", HMI_RS_LIST, op="rs_list")
    columns = JSOCInfo(replay.url).rs_list("hmi.M_45s[2012.01.01_00:00:34_TAI-2012.01.01_00:01:19_TAI]", ["T_REC"])
    assert columns["_count"] == [2]
    assert columns["CAR_ROT"] == ["2118", "2118"]
    t_rec = times_or(columns["T_REC"], columns["T_REC"])
    assert t_rec.tai.isot.tolist() == ["2012-01-01T00:00:45.000", "2012-01-01T00:01:30.000"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("0x80000000", -(1 << 31)), ("0x00000400", 1024), ("-2147483648", -(1 << 31)), ("1024", 1024)],
        *[("Invalid KeyLink", None), ("MISSING", None), ("", None), (None, None)],
    ],
)
def test_integer_keywords_and_jsoc_absent_values(value, expected):
    # Before: int_keyword("Invalid KeyLink") raised "could not convert string to float".
    assert int_keyword(value) == expected


def test_64_bit_keywords_keep_their_high_bits():
    # CALVER64 is a longlong: 0x80000000 is a positive version there, bit 63 makes it negative.
    assert int_keyword("0x0000000080000000", bits=64) == 1 << 31
    assert int_keyword("0x0000010010000000", bits=64) == (1 << 40) | (1 << 28)
    assert int_keyword("0x8000000000000000", -1, bits=64) == -(1 << 63)
    assert int_keyword("MISSING", -1, bits=64) == -1


def test_absent_times_fall_back():
    # "MISSING" and JSOC's -4712 default time are absent values, not times.
    assert [is_absent(v) for v in ("MISSING", "-4712.01.01_11:59:28_TAI", "2014.01.01_00:00:01_TAI")] == [
        True,
        True,
        False,
    ]
    times = times_or(["2014-01-01T00:00:02.57Z", "MISSING"], ["2014-01-01T00:00:01Z", "2014-01-01T00:00:13Z"])
    assert times.utc.isot.tolist() == ["2014-01-01T00:00:02.570", "2014-01-01T00:00:13.000"]


def test_calibration_version_reads_calver64_else_calver32_else_none():
    n = 2
    assert calver_of({"CALVER64": ["0x0000000010000400", "MISSING"]}, n).tolist() == [(1 << 28) | 0x400, -1]
    assert calver_of({"CALVER32": ["0x10", "0x10"]}, n).tolist() == [16, 16]
    assert calver_of({"CALVER64": ["Invalid KeyLink"] * 2}, n).tolist() == [-1, -1]
    # a MISSING CALVER64 falls back to CALVER32 (get_new_CRLN_OBS reads CALVER32 when CALVER64 < 0)
    assert calver_of({"CALVER64": ["MISSING", "0x0"], "CALVER32": ["0x10000000", "0x10"]}, n).tolist() == [1 << 28, 0]
    assert calver_of({}, n).tolist() == [-1, -1]


def test_reference_record_with_invalid_keylink_and_missing_values(replay):
    # The shape jsoc_info gives when a key is unknown to the series and a value is unset: every
    # record answers "Invalid KeyLink" for CALVER64 (before: ValueError on every AIA search).
    reply = {
        "keywords": [
            {"name": "T_REC", "values": ["2014-01-01T00:00:01Z", "2014-01-01T00:00:13Z"]},
            {"name": "T_OBS", "values": ["MISSING", "2014-01-01T00:00:14.57Z"]},
            {"name": "QUALITY", "values": ["0x00000000", "0x00000000"]},
            {"name": "CALVER64", "values": ["Invalid KeyLink", "Invalid KeyLink"]},
            {"name": "DSUN_OBS", "values": ["147100000000.0", "147100000000.0"]},
            {"name": "HGLN_OBS", "values": ["0.01", "MISSING"]},
            {"name": "CRLN_OBS", "values": ["100.0", "100.1"]},
        ],
        "segments": [],
        "count": 2,
        "status": 0,
    }
    replay.answer("jsoc_info", reply, op="rs_list")
    t_ref = Time("2014-01-01T00:00:14")
    keywords = reference_keywords(JSOCInfo(replay.url), rules_for("aia.lev1_euv_12s"), t_ref, 171)
    assert keywords["CALVER"] == -1  # no calibration version: no CRLN correction
    assert keywords["CRLN_OBS"] == pytest.approx(100.1)
    assert "HGLN_OBS" not in keywords  # MISSING is absent, not NaN or text
    assert Time(keywords["T_OBS"]).isot.startswith("2014-01-01T00:00:14.57")
    # the AIA series was asked only for keywords it has
    asked = [p["key"].split(",") for _, p in replay.log if p.get("op") == "rs_list"]
    assert asked
    assert all({"CALVER64", "CALVER32"}.isdisjoint(keys) for keys in asked)
    assert not np.isnan(keywords["DSUN_OBS"])


# --- jsoc_fetch and manage-request ---------------------------------------------------------
# exp_request of a new request (cassette test_check_request.yaml): JSON numbers.
EXP_REQUEST = {"status": 2, "requestid": "JSOC_20200410_003", "method": "url", "protocol": "fits"}
EXP_REQUEST |= {"wait": 0, "rcount": 1, "size": 15}
# exp_status of the completed request, verbatim apart from white space (cassette
# test_check_request.yaml): JSOC's index.json, in which every member is a string.
EXP_STATUS_DONE = (
    '{"version": "0.5", "requestid": "JSOC_20200410_003", "method": "url", "protocol": "fits", '
    '"count": "1", "size": "15", "exptime": "2020.04.10_00:14:11_UT", "dir": "\\/SUM66\\/D1278070722\\/S00000", '
    '"status": "0", "keywords": "**IN FITS FILES**", "data": [{"record": "hmi.M_45s[2012.01.01_01:01:30_TAI][2]", '
    '"filename": "hmi.m_45s.20120101_010130_TAI.2.magnetogram.fits"}]}'
)
# url_quick/as-is answered at once (cassette test_request_data_protocol.yaml): absolute SUMS paths.
QUICK_AS_IS = (
    '{"rcount":1,"count":1,"size":15,"dir":"","data":[{"record":"hmi.M_45s[2012.01.01_01:01:30_TAI][2]{magnetogram}",'
    '"filename":"\\/SUM41\\/D280342572\\/S00010\\/magnetogram.fits"}],"requestid":"","method":"url_quick",'
    '"protocol":"as-is","wait":0,"status":0}'
)
# The only data row of an export that made no file (jsoc_export_as_fits.c L1078-1087).
EMPTY_EXPORT = {
    "requestid": "JSOC_20200410_004",
    "method": "url",
    "protocol": "fits",
    "status": "0",
    "dir": "/SUM1/D1/S00000",
    "data": [
        {"record": "warning=No FITS files were exported. The requested FITS files no longer exist.", "filename": ""}
    ],
}
# manage-request replies (manage-request.py L312-336: status is a string).
MANAGE_PENDING = {
    "status": "2",
    "msg": "existing export request for export user a@b.c [ request_id=JSOC_20200410_003, start_time=2020-04-10 00:13:40 ]",
}
MANAGE_NONE = {"status": "1", "msg": "no existing export request for export user a@b.c"}
MANAGE_CANCELED = {"status": "3", "msg": MANAGE_PENDING["msg"] + " was canceled"}


def test_exp_status_strings_and_numbers_read_alike():
    from sunpy_jsoc_cutout._jsoc.export import reply_number, reply_status  # noqa: PLC0415

    done = json.loads(EXP_STATUS_DONE)
    assert (reply_status(EXP_REQUEST), reply_status(done), reply_status(json.loads(QUICK_AS_IS))) == (2, 0, 0)
    assert reply_number(done["size"]) == reply_number(EXP_REQUEST["size"]) == 15
    assert reply_status({"error": "no status"}) is None


def test_completed_export_files_and_records(replay):
    from sunpy_jsoc_cutout._jsoc.export_files import RecordMatcher, export_warnings, file_urls  # noqa: PLC0415

    done = json.loads(EXP_STATUS_DONE)
    [(record, name, url)] = file_urls(done, "http://jsoc.stanford.edu/")
    assert name == "hmi.m_45s.20120101_010130_TAI.2.magnetogram.fits"
    assert url == "http://jsoc.stanford.edu/SUM66/D1278070722/S00000/" + name
    assert export_warnings(done) == []
    # the record names its row by every prime key (T_REC in TAI, CAMERA)
    rows = {"T_REC": Time(["2012-01-01T01:01:30", "2012-01-01T01:01:30"], scale="tai"), "CAMERA": np.array([1, 2])}
    assert RecordMatcher("hmi.M_45s", ("T_REC", "CAMERA"), rows).match(record) == (1, "")
    # url_quick: full SUMS paths and an empty dir
    [(_, quick_name, quick_url)] = file_urls(json.loads(QUICK_AS_IS), "http://jsoc.stanford.edu/")
    assert (quick_name, quick_url) == (
        "magnetogram.fits",
        "http://jsoc.stanford.edu/SUM41/D280342572/S00010/magnetogram.fits",
    )


def test_empty_export_is_a_warning_not_files():
    from sunpy_jsoc_cutout._jsoc.export_files import export_warnings, file_urls  # noqa: PLC0415

    assert file_urls(EMPTY_EXPORT, "http://jsoc.stanford.edu/") == []
    assert export_warnings(EMPTY_EXPORT) == ["No FITS files were exported. The requested FITS files no longer exist."]


def test_manage_request_replies(replay):
    from sunpy_jsoc_cutout._jsoc.export import JSOCExportAPI  # noqa: PLC0415

    replay.answer("manage-request.sh", MANAGE_PENDING, operation="check")
    replay.answer("manage-request.sh", MANAGE_CANCELED, operation="cancel")
    with JSOCExportAPI(replay.url) as api:
        assert api.check_pending("a@b.c") == "JSOC_20200410_003"
        assert api.cancel_pending("a@b.c", "JSOC_20200410_003") is True
        assert api.cancel_pending("a@b.c", "JSOC_20200410_999") is False  # another request is pending
    calls = [p for path, p in replay.log if path.endswith("manage-request.sh")]
    assert [c["operation"] for c in calls] == ["check", "check", "cancel", "check"]
    assert all(c["address"] == "a@b.c" for c in calls)
    assert all(c["H"] == "hmidb2" for c in calls)  # what the export page sends on the public site


def test_manage_request_with_nothing_pending(replay):
    from sunpy_jsoc_cutout._jsoc.export import JSOCExportAPI  # noqa: PLC0415

    replay.answer("manage-request.sh", MANAGE_NONE, operation="check")
    with JSOCExportAPI(replay.url) as api:
        assert api.check_pending("a@b.c") is None


def test_a_host_name_that_does_not_resolve_is_not_asked_again():
    import socket  # noqa: PLC0415

    import requests  # noqa: PLC0415
    import urllib3  # noqa: PLC0415

    from sunpy_jsoc_cutout._jsoc.info import transient  # noqa: PLC0415

    lookup = urllib3.exceptions.NameResolutionError("jsoc.stanford.edu", None, socket.gaierror(-2, "Name unknown"))
    offline = requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/cgi-bin/ajax/jsoc_info", lookup))
    assert not transient(offline)
    assert transient(requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer")))
    assert transient(requests.Timeout("read timed out"))
