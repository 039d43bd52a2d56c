"""
JSOC's answers for what is absent, over HTTP: unknown keywords, missing values, unknown segments
(``lm-jps/drms:base/export/apps/jsoc_info.c``), data on tape (the emulator's ``tape`` knob) and
the warning row of an export that made no file (``jsoc_export_as_fits.c``).
"""

import json
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest

EMAIL = "user@example.com"
AIA = "aia.lev1_euv_12s[2014-01-01T00:00:01Z/24s][304]"
HMI = "hmi.M_45s[2014.01.01_00:00:00_TAI/90s]"


def get(emulator, endpoint, **params):
    url = f"{emulator.url}cgi-bin/ajax/{endpoint}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url) as reply:
        return json.loads(reply.read().decode("latin1"))


def rs_list(emulator, ds, **params):
    return get(emulator, "jsoc_info", op="rs_list", ds=ds, **params)


def values(reply):
    return {k["name"]: k["values"] for k in reply["keywords"]}


def test_unknown_keyword_is_invalid_keylink_for_every_record_not_an_error(emulator):
    # the real HMI series have no HGLN_OBS/EXPTIME; AIA has no CALVER64
    hmi = rs_list(emulator, HMI, key="T_REC,HGLN_OBS,EXPTIME,NOSUCHKEY")
    assert hmi["status"] == 0
    assert hmi["count"] == 2
    for name in ("HGLN_OBS", "EXPTIME", "NOSUCHKEY"):
        assert values(hmi)[name] == ["Invalid KeyLink"] * 2
    aia = rs_list(emulator, AIA, key="CALVER64,HGLN_OBS")
    assert values(aia)["CALVER64"] == ["Invalid KeyLink"] * 2
    assert all(v != "Invalid KeyLink" for v in values(aia)["HGLN_OBS"])


def test_missing_values_print_missing_whatever_the_type_but_quality_prints_its_value(emulator):
    # ROI_NWIN (int), OSCNMEAN (float), MPO_REC (string) and ISPPKTIM (time) hold no value in the
    # emulator: DRMS's missing values (INT_MIN, NaN, "", the missing time) all print "MISSING"
    reply = rs_list(emulator, AIA, key="ROI_NWIN,OSCNMEAN,MPO_REC,ISPPKTIM,T_REC_step,CALVER64")
    for name in ("ROI_NWIN", "OSCNMEAN", "MPO_REC", "ISPPKTIM"):
        assert values(reply)[name] == ["MISSING"] * 2
    assert values(reply)["T_REC_step"] == ["12.000000"] * 2  # a constant prints as its default
    # QUALITY is exempt: a record without an image shows 0x80000000, not MISSING
    records = emulator.catalogue.query("aia.lev1_euv_12s[2014-01-01T00:00:00Z/2h][171]")
    bad = int(np.flatnonzero(np.asarray(records.columns["QUALITY"]) < 0)[0])
    spec = records.record_spec(bad)
    quality = values(rs_list(emulator, spec, key="QUALITY,FSN"))
    assert quality["QUALITY"] == ["0x80000000"]
    hmi = values(rs_list(emulator, HMI, key="CALVER64,QUALLEV1"))
    assert all(v.startswith("0x") and len(v) == 18 for v in hmi["CALVER64"])  # hexadecimal like its default
    assert hmi["QUALLEV1"] == ["MISSING"] * 2


def test_unknown_or_unselected_segment_is_invalidsegname(emulator):
    reply = rs_list(emulator, AIA, key="T_REC", seg="image,nosuchseg")
    assert reply["status"] == 0
    image, bogus = reply["segments"]
    assert all(p.startswith("/SUM") for p in image["values"])
    assert bogus == {"name": "nosuchseg", "values": ["InvalidSegName"] * 2, "dims": ["NA"] * 2}
    # a segment of the series that the {...} of ds left out is invalid too
    only_image = rs_list(emulator, AIA + "{image}", key="T_REC", seg="spikes")
    assert only_image["segments"][0]["values"] == ["InvalidSegName"] * 2
    # bzeros/bscales only where the series has <segment>_bzero/_bscale keywords (HMI, not AIA)
    hmi = rs_list(emulator, HMI, key="T_REC", seg="magnetogram")["segments"][0]
    assert (hmi["bzeros"], hmi["bscales"]) == (["0.0"] * 2, ["0.1"] * 2)
    assert "bzeros" not in image


def test_recinfo_online_follows_the_last_listed_segment(emulator):
    # as the recorded key=**ALL**&R=1 reply: no segment listed gives online 0
    assert [r["online"] for r in rs_list(emulator, AIA, key="T_REC", R=1)["recinfo"]] == [0, 0]
    assert [r["online"] for r in rs_list(emulator, AIA, key="T_REC", seg="image", R=1)["recinfo"]] == [1, 1]


def request_and_wait(emulator, ds, method="url", protocol="fits", polls=100):
    reply = get(emulator, "jsoc_fetch", op="exp_request", ds=ds, notify=EMAIL, method=method, protocol=protocol)
    return wait(emulator, reply, polls)


def wait(emulator, reply, polls=100):
    """Poll ``exp_status`` (the fast time model finishes once the files are on disk)."""
    for _ in range(polls):
        time.sleep(0.1)
        if reply["status"] not in (1, 2):
            return reply
        reply = get(emulator, "jsoc_fetch", op="exp_status", requestid=reply["requestid"])
    return reply


def test_tape_knob_offline_until_an_export_stages_the_data(emulator):
    emulator.exports.set_faults(tape={"series": "aia.lev1", "start": "2014.01.01_00:00:00_UTC"})
    offline = rs_list(emulator, AIA, key="T_REC,*online*", seg="image", R=1)
    assert offline["segments"][0]["values"] == ["NoDataDirectory"] * 2
    assert [r["online"] for r in offline["recinfo"]] == [0, 0]
    # other times stay online
    earlier = rs_list(emulator, "aia.lev1_euv_12s[2013-12-31T23:00:00Z][304]", key="T_REC", seg="image")
    assert earlier["segments"][0]["values"][0].startswith("/SUM")
    # url_quick/as-is is not immediate for offline data: it becomes a real request
    quick = get(emulator, "jsoc_fetch", op="exp_request", ds=AIA, notify=EMAIL, method="url_quick", protocol="as-is")
    assert quick["status"] == 2
    assert quick["requestid"].startswith("JSOC_")
    assert wait(emulator, quick)["status"] == "0"  # index.json values are strings
    online = rs_list(emulator, AIA, key="T_REC", seg="image", R=1)
    assert all(p.startswith("/SUM") for p in online["segments"][0]["values"])
    assert [r["online"] for r in online["recinfo"]] == [1, 1]
    assert emulator.exports.fault_state()["tape"]["staged"] >= 1


def test_tape_knob_is_separate_from_the_status_25_knob(emulator):
    emulator.exports.set_faults(offline=True)
    reply = get(emulator, "jsoc_fetch", op="exp_request", ds=HMI, notify=EMAIL, method="url", protocol="fits")
    assert reply["status"] == 25
    assert rs_list(emulator, HMI, key="T_REC", seg="magnetogram")["segments"][0]["values"][0].startswith("/SUM")
    emulator.exports.set_faults(clear=True, tape=True)
    assert rs_list(emulator, HMI, key="T_REC", seg="magnetogram")["segments"][0]["values"] == ["NoDataDirectory"] * 2
    assert request_and_wait(emulator, HMI)["status"] == "0"


def test_realistic_time_model_charges_the_tape_staging():
    from sunpy_jsoc_cutout.testing.exports.timemodel import FAST, REALISTIC  # noqa: PLC0415

    assert REALISTIC.tape_delay == pytest.approx(180.0)
    assert FAST.tape_delay == 0.0
    assert REALISTIC.scaled(10).tape_delay == pytest.approx(18.0)


def test_export_with_no_file_completes_with_the_warning_row(emulator):
    # a box wholly off the image: im_patch skips every record, jsoc_export_as_fits writes no file
    process = (
        "n=0|im_patch,t_ref=2014-01-01T00:00:01,t=1,r=0,c=0,locunits=pixels,boxunits=pixels,"
        "x=-100,y=-100,width=20,height=20"
    )
    reply = get(
        emulator,
        "jsoc_fetch",
        op="exp_request",
        ds=AIA + "{image}",
        notify=EMAIL,
        method="url",
        protocol="fits",
        process=process,
    )
    reply = wait(emulator, reply)
    assert reply["status"] == "0"  # index.json: every value a string
    assert reply["count"] == "0"
    assert reply["data"] == [
        {"record": "warning=No FITS files were exported. The requested FITS files no longer exist.", "filename": ""}
    ]


def test_real_region_11967_has_its_published_dates_and_positions(emulator):
    # solen.info Solar Terrestrial Activity Reports 2014 February 5-9: S12W22 (Feb 4), S12W34
    # (Feb 5), S12W48 (Feb 6), S12W74 (Feb 8); the emulator reports at 00:00 UTC
    reply = rs_list(
        emulator, "su_rsb.NOAA_ActiveRegions[][11967]", key="ObservationTime,LatitudeHG,LongitudeCM,LongitudeHG"
    )
    rows = values(reply)
    days = [t[:10] for t in rows["ObservationTime"]]
    assert days[0] == "2014.01.28"
    assert days[-1] == "2014.02.09"
    assert set(rows["LatitudeHG"]) == {"-12"}
    by_day = dict(zip(days, (int(v) for v in rows["LongitudeCM"]), strict=True))
    # half a day of rotation (about 6.6 degrees) before the published noon positions
    for day, published in (("2014.02.04", 22), ("2014.02.05", 34), ("2014.02.06", 48), ("2014.02.08", 74)):
        assert abs(by_day[day] + 6.6 - published) <= 1.5
    assert len(set(rows["LongitudeHG"])) <= 2  # nearly fixed in the Carrington frame
