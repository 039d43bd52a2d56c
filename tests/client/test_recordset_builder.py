"""Record-set strings: TAI times, cadence rounding, prime-key order, lev1 handling."""

import pytest

from astropy.time import Time

from sunpy.util.exceptions import SunpyUserWarning

from sunpy_jsoc_cutout._plan.jsoc_text import drms_time
from sunpy_jsoc_cutout._plan.recordset import build_recordset, plan_recordsets, resolve_cadence
from sunpy_jsoc_cutout._plan.series_rules import rules_for
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
