"""DRMS time parsing and formatting: zones, leap seconds, layouts, round trips."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from astropy.time import Time

from sunpy_jsoc_cutout.testing.common.timeutil import (
    TimeParseError,
    format_time,
    parse_drms_time,
    parse_duration,
    tai_to_utc,
    utc_to_tai,
)

EPOCH = Time("1977-01-01T00:00:00", scale="tai")


def astropy_seconds(iso, scale="utc"):
    return float((Time(iso, scale=scale).tai - EPOCH).to_value("s"))


@pytest.mark.parametrize(
    ("text", "iso", "scale"),
    [
        ("2014.02.05_08:00:00_TAI", "2014-02-05T08:00:00", "tai"),
        ("2014.02.05_8:00", "2014-02-05T08:00:00", "utc"),
        ("2014.02.05_08:00_UT", "2014-02-05T08:00:00", "utc"),
        ("2014-02-05T08:00:00Z", "2014-02-05T08:00:00", "utc"),
        ("2025-01-01T04:33:30.000", "2025-01-01T04:33:30", "utc"),
        ("2010.07.30_13:30:34_TAI", "2010-07-30T13:30:34", "tai"),
        ("2012.06.30_23:59:60_UTC", "2012-06-30T23:59:60", "utc"),
    ],
)
def test_parse_matches_astropy(text, iso, scale):
    assert parse_drms_time(text) == pytest.approx(astropy_seconds(iso, scale), abs=1e-6)


def test_no_zone_means_utc_and_tai_offset_is_the_leap_second_count():
    # 35 s TAI-UTC in 2014
    assert parse_drms_time("2014.02.05_08:00") - parse_drms_time("2014.02.05_08:00_TAI") == 35.0


@pytest.mark.parametrize("bad", ["", "yesterday", "2014.13.05_08:00", "2014.02.05_08:00_XYZ"])
def test_bad_times_raise(bad):
    with pytest.raises(TimeParseError):
        parse_drms_time(bad)


@pytest.mark.parametrize(
    ("text", "seconds"), [("45s", 45), ("1m", 60), ("8h", 28800), ("8hr", 28800), ("1d", 86400), ("2.5", 2.5)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_slot_unit_duration_needs_a_slot():
    assert parse_duration("3u", slot=45.0) == 135.0
    with pytest.raises(TimeParseError):
        parse_duration("3u")
    with pytest.raises(TimeParseError):
        parse_duration("3 fortnights")


def test_series_styles_and_layouts():
    t = parse_drms_time("2012.01.01_01:01:30_TAI")
    assert format_time(t, "tai") == "2012.01.01_01:01:30_TAI"
    assert format_time(t, "tai", layout="A") == "20120101_010130_TAI"
    aia = parse_drms_time("2010-07-30T13:30:09Z")
    assert format_time(aia, "iso_z") == "2010-07-30T13:30:09Z"
    assert format_time(aia, "iso_z", layout="A") == "2010-07-30T133009Z"
    assert format_time(aia, "iso_z", layout="D").startswith("@2010-07-30@")
    assert format_time(aia + 0.566, "iso_z", digits=2) == "2010-07-30T13:30:09.57Z"
    assert format_time(float("nan")) == "MISSING"


def test_leap_second_is_printed_as_60():
    t = parse_drms_time("2016.12.31_23:59:59.5_UTC")
    assert format_time(t + 0.5 * np.arange(4), "iso_z", digits=1) == [
        "2016-12-31T23:59:59.5Z",
        "2016-12-31T23:59:60.0Z",
        "2016-12-31T23:59:60.5Z",
        "2017-01-01T00:00:00.0Z",
    ]


def test_vectorised_conversion_against_astropy():
    isos = ["2010-05-13T00:00:00", "2012-07-01T00:00:00", "2015-07-01T00:00:01", "2024-02-29T12:00:00"]
    tai = np.array([astropy_seconds(x) for x in isos])
    offsets = tai - tai_to_utc(tai)  # TAI-UTC at each time
    assert list(offsets) == [34.0, 35.0, 36.0, 37.0]
    assert np.allclose(utc_to_tai(tai_to_utc(tai)), tai)
    assert format_time(tai, "iso_z") == [x + "Z" for x in isos]


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=1.05e9, max_value=1.6e9), st.sampled_from(["tai", "iso_z", "ut"]))
def test_round_trip(t, style):
    t = np.floor(t * 100) / 100
    assert parse_drms_time(format_time(t, style, digits=2)) == pytest.approx(t, abs=5e-3)
