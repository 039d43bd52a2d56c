"""The emulated catalogue: record counts, slot labels, links, keywords, recnums, SUMS paths, NOAA."""

import numpy as np
import pytest

import astropy.units as u

import sunpy.map
from sunpy.map.sources import AIAMap, HMIMap
from sunpy.sun.models import differential_rotation

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.catalogue.errors import RecordSetError, TooManyRecords, UnknownSeries
from sunpy_jsoc_cutout.testing.common.timeutil import parse_drms_time
from sunpy_jsoc_cutout.testing.sun import noaa


@pytest.fixture(scope="module")
def cat():
    return Catalogue()


GUIDE = "aia.lev1[2014.02.05_08:00-2014.02.05_16:00][? WAVELNTH={} ?]"


@pytest.mark.parametrize(("wave", "count"), [(171, 2401), (193, 2400), (211, 2400), (304, 2400)])
def test_guide_query_counts(cat, wave, count):
    records = cat.query(GUIDE.format(wave))
    assert len(records) == count == cat.count(GUIDE.format(wave))
    assert set(records.columns["WAVELNTH"]) == {wave}
    assert np.all(np.diff(records.columns["FSN"]) > 0)


def test_guide_lev1_times(cat):
    r171 = cat.query(GUIDE.format(171))
    assert r171.keyword_strings("T_REC")[0] == "2014-02-05T08:00:00Z"
    assert r171.keyword_strings("T_REC")[-1] == "2014-02-05T16:00:00Z"
    r304 = cat.query(GUIDE.format(304))
    assert r304.keyword_strings("T_REC")[0] == "2014-02-05T08:00:09Z"  # the user guide's file name


def test_prime_key_fsn_is_not_wavelength(cat):
    assert len(cat.query("aia.lev1[2014.02.05_08:00/1m][304]")) == 0
    fsn = cat.query("aia.lev1[2014.02.05_08:00/1m]").columns["FSN"]
    picked = cat.query(f"aia.lev1[2014.02.05_08:00/1m][{fsn[3]}-{fsn[5]}]")
    assert list(picked.columns["FSN"]) == list(fsn[3:6])


def test_at_cadence_on_slotted_series(cat):
    assert len(cat.query("aia.lev1_euv_12s[2014.02.05_08:00/8h][171]")) == 2400
    every_minute = cat.query("aia.lev1_euv_12s[2014.02.05_08:00/8h@60s][171]")
    assert len(every_minute) == 480
    assert set(np.diff(every_minute.columns["T_REC"])) == {60.0}
    assert len(cat.query("aia.lev1_euv_12s[2014.02.05_08:00/8h@1m][171,193]")) == 960


def test_hmi_skip_rounds_to_whole_slots(cat):
    records = cat.query("hmi.M_45s[2014.02.05_08:00_TAI/1h@60s]")
    assert len(records) == 80
    assert set(np.diff(records.columns["T_REC"])) == {45.0}


def test_hmi_cassette_range_and_strings(cat):
    records = cat.query("hmi.M_45s[2012.01.01_00:00:34_TAI-2012.01.01_00:01:19_TAI]")
    assert records.keyword_strings("T_REC") == ["2012.01.01_00:00:45_TAI", "2012.01.01_00:01:30_TAI"]
    assert records.keyword_strings("TELESCOP") == ["SDO/HMI"] * 2
    assert records.keyword_strings("INSTRUME") == ["HMI_FRONT2"] * 2
    assert records.keyword_strings("WAVELNTH") == ["6173.0"] * 2
    assert records.keyword_strings("CAR_ROT") == ["2118"] * 2
    assert records.record_spec(0) == "hmi.M_45s[2012.01.01_00:00:45_TAI][2]"
    assert len(cat.query("hmi.M_45s[2012.01.01_00:00:34_TAI-2012.01.01_00:01:19_TAI][3]")) == 0
    assert set(cat.query("hmi.M_720s[2012.01.01/1h]").columns["CAMERA"]) == {3}


@pytest.mark.parametrize(
    ("value", "label"),
    [("2014.02.05_08:00:20_TAI", "2014.02.05_08:00:00_TAI"), ("2014.02.05_08:00:23_TAI", "2014.02.05_08:00:45_TAI")],
)
def test_single_time_selects_the_slot_containing_it(cat, value, label):
    assert cat.query(f"hmi.M_45s[{value}]").keyword_strings("T_REC") == [label]


def test_aia_slot_labels_match_recorded_ones(cat):
    records = cat.query("aia.lev1_euv_12s[2010.07.30_13:30:34_TAI-2010.07.30_14:00:34_TAI][193]")
    assert len(records) == 151
    assert records.keyword_strings("T_REC")[0] == "2010-07-30T13:30:02Z"
    one = cat.query("aia.lev1_euv_12s[2014-01-01T00:00:01Z][304]")
    assert one.record_spec(0) == "aia.lev1_euv_12s[2014-01-01T00:00:01Z][304]"


def test_link_targets_lie_in_their_slot(cat):
    records = cat.query("aia.lev1_euv_12s[2014.02.05_08:00/10m]")
    assert len(records) == 50 * 7
    lev1 = records.link_target("lev1")
    offset = lev1.columns["T_REC"] - records.columns["T_REC"]
    assert np.all((offset >= 0) & (offset < 12))
    assert np.array_equal(lev1.columns["WAVELNTH"], records.columns["WAVELNTH"])
    # keywords through the link are the target's
    assert records.keyword_strings("T_OBS") == lev1.keyword_strings("T_OBS")
    assert np.array_equal(records.columns["FSN"], lev1.columns["FSN"])
    target = cat.query(lev1.record_spec(0))
    assert int(target.recnum[0]) == int(lev1.recnum[0])


def test_too_many_records_fails_fast(cat):
    with pytest.raises(TooManyRecords) as err:
        cat.query("aia.lev1", max_records=15000)
    assert err.value.count > 10**8
    with pytest.raises(TooManyRecords) as err:
        cat.query("aia.lev1[2014.01.01-2015.01.01]")
    assert err.value.count > 10**7
    with pytest.raises(TooManyRecords):
        cat.query("aia.lev1_euv_12s[2014.02.05_08:00/1d][171]", max_records=5000)
    assert len(cat.query("aia.lev1_euv_12s[2014.02.05_08:00/1d][171]", limit=10, max_records=5000)) == 10


def test_large_query(cat):
    records = cat.query("aia.lev1_euv_12s[2014.02.05_00:00/2d]")
    assert len(records) == 2 * 7200 * 7
    assert np.unique(records.recnum).size == len(records)


def test_limit_first_and_last(cat):
    full = cat.query("hmi.M_45s[2014.02.05/1h]")
    assert list(cat.query("hmi.M_45s[2014.02.05/1h]", limit=3).recnum) == list(full.recnum[:3])
    assert list(cat.query("hmi.M_45s[2014.02.05/1h]", limit=-2).recnum) == list(full.recnum[-2:])


@pytest.mark.parametrize(
    "spec",
    [
        "aia.lev1[2014.02.05_08:00/2m]",
        "aia.lev1_euv_12s[2014.02.05_08:00/2m]",
        "aia.lev1_uv_24s[2014.02.05_08:00/2m]",
        "hmi.Ic_720s[2014.02.05/1h]",
        "su_rsb.NOAA_ActiveRegions[2014.02.05_00:00_UT]",
    ],
)
def test_recnums_unique_deterministic_and_addressable(cat, spec):
    records = cat.query(spec)
    assert len(records) > 0
    assert np.unique(records.recnum).size == len(records)
    assert np.array_equal(Catalogue().query(spec).recnum, records.recnum)
    picks = records.recnum[[0, -1]]
    again = cat.query(f"{records.series.name}[:#{picks[0]},#{picks[1]}]")
    assert [again.record_spec(i) for i in range(2)] == [records.record_spec(0), records.record_spec(len(records) - 1)]


def test_quality_and_missing_images(cat):
    records = cat.query("hmi.M_45s[2014.02.01/4d]")
    quality = records.columns["QUALITY"]
    bad = quality < 0
    assert 0.0005 < bad.mean() < 0.01
    assert 0 < ((quality > 0).mean()) < 0.02
    assert np.array_equal(records.has_image, ~bad)
    strings = records.keyword_strings("QUALITY")
    assert {strings[i] for i in np.flatnonzero(bad)} == {"0x80000000"}
    assert records.sums_path(int(np.flatnonzero(bad)[0]), "magnetogram") == "NoDataDirectory"
    good = cat.query("hmi.M_45s[2014.02.01/4d][? drms.image_exists(quality) ?]")
    assert len(good) == (~bad).sum()
    assert len(cat.query("hmi.M_45s[2014.02.01/4d][? QUALITY >= 0 ?]")) == (~bad).sum()


def test_sql_filters_on_aia(cat):
    both = cat.query("aia.lev1[2014.02.05_08:00/1h][? WAVELNTH = 171 OR WAVELNTH = 304 ?]")
    assert set(both.columns["WAVELNTH"]) == {171, 304}
    assert len(both) == 600
    later = cat.query("aia.lev1[2014.02.05_08:00/1h][? WAVELNTH=171 AND T_REC >= '2014-02-05T08:30:00Z' ?]")
    assert len(later) == 150


def test_headers_make_sunpy_maps(cat):
    aia = cat.query("aia.lev1_euv_12s[2014.02.05_08:00][171]")
    header = aia.header(0)
    smap = sunpy.map.Map(np.zeros((4, 4)), {**header, "NAXIS1": 4, "NAXIS2": 4})
    assert isinstance(smap, AIAMap)
    assert smap.wavelength == 171 * u.AA
    assert header["CDELT1"] == 0.599489
    assert header["INSTRUME"] == "AIA_3"
    assert abs(smap.observer_coordinate.lon.to_value(u.deg) - header["HGLN_OBS"]) < 1e-9
    assert header["T_REC"] == "2014-02-05T08:00:01Z"
    hmi = cat.query("hmi.M_45s[2014.02.05_08:00:00_TAI]").header(0)
    hmap = sunpy.map.Map(np.zeros((4, 4)), {**hmi, "NAXIS1": 4, "NAXIS2": 4})
    assert isinstance(hmap, HMIMap)
    assert 179 < hmi["CROTA2"] < 181
    assert abs(hmi["CDELT1"] - 0.504) < 0.001
    # the real HMI series have no R_SUN, HGLN_OBS, HGLT_OBS or EXPTIME, but CALVER64 (2020 recording)
    assert not {"R_SUN", "HGLN_OBS", "HGLT_OBS", "EXPTIME"} & set(hmi)
    assert {"CALVER64", "CRLN_OBS", "CRLT_OBS", "DSUN_OBS"} <= set(hmi)
    # real AIA series carry the Stonyhurst observer and no CALVER64
    assert {"HGLN_OBS", "HGLT_OBS", "DSUN_OBS", "CRLN_OBS", "CRLT_OBS"} <= set(header)
    assert "CALVER64" not in header
    assert "CALVER32" not in header


def test_sums_paths_round_trip(cat):
    euv = cat.query("aia.lev1_euv_12s[2014.02.05_08:00][193]")
    path = euv.sums_path(0, "image")
    assert path.endswith("/image_lev1.fits")
    assert path.startswith("/SUM")
    records, segment = cat.resolve_sums_path(path)
    assert segment == "image"
    assert records.series.name == "aia.lev1"
    assert records.record_spec(0) == euv.link_target("lev1").record_spec(0)
    hmi = cat.query("hmi.M_45s[2014.02.05_08:00:00_TAI]")
    records, segment = cat.resolve_sums_path(hmi.sums_path(0, "magnetogram"))
    assert (records.record_spec(0), segment) == (hmi.record_spec(0), "magnetogram")
    assert cat.resolve_sums_path("/SUM1/D1000000001/S00001/nothing.fits") is None
    assert cat.resolve_sums_path("/etc/passwd") is None


def test_mod_series_and_unknown_series(cat):
    mod = cat.get_series("AIA.LEV1_EUV_12S_MOD")
    assert mod.name == "aia.lev1_euv_12s_mod"
    assert [(s.name, s.filename, s.storage) for s in mod.segments] == [("image", "image.fits", "float32")]
    assert cat.get_series("hmi.m_45s_mod").segments[0].name == "magnetogram"
    assert len(cat.query("hmi.M_45s_mod")) == 0
    with pytest.raises(UnknownSeries):
        cat.query("hmi.nothing[2014.01.01]")
    with pytest.raises(RecordSetError):
        cat.query("hmi.M_45s[2014.01.01]{nosuchsegment}")
    with pytest.raises(RecordSetError):
        cat.query("hmi.M_45s[not a time]")


# ------------------------------------------------------------------ NOAA


def test_noaa_region_lookup_as_the_export_page_does(cat):
    records = cat.query("su_rsb.NOAA_ActiveRegions[][11967]")
    assert len(records) >= 3
    assert set(records.columns["RegionNumber"]) == {11967}
    times = records.keyword_strings("ObservationTime")
    assert all(t.endswith("_00:00:00_UT") for t in times)
    cm = np.array([int(v) for v in records.keyword_strings("LongitudeCM")])
    assert np.all(np.abs(cm) < 90)
    assert np.all(np.diff(cm) > 10)
    assert np.all(np.diff(cm) < 16)
    lat = {int(v) for v in records.keyword_strings("LatitudeHG")}
    assert len(lat) == 1
    assert 5 <= abs(lat.pop()) <= 35
    t0 = float(records.columns["ObservationTime"][0])
    region = noaa.region(11967, t0)
    assert int(records.keyword_strings("LongitudeHG")[0]) == round(region.carr_lon) % 360


def test_noaa_numbers_and_differential_rotation():
    t = parse_drms_time("2014.02.05_08:00")
    regions = noaa.active_regions(t)
    assert 5 <= len(regions) <= 30
    assert all(r.number >= 10000 for r in regions)
    assert [r.number for r in regions] == [r.number for r in noaa.active_regions(t)]
    reg = regions[len(regions) // 2]
    later = noaa.region(reg.number, t + 86400.0)
    if later is None:
        later = noaa.region(reg.number, t - 86400.0)
        days = -1.0
    else:
        days = 1.0
    sidereal = differential_rotation(1 * u.day, reg.lat * u.deg, model="howard", frame_time="sidereal")
    expected = (sidereal.to_value(u.deg) - 14.1844) * days
    drift = (later.carr_lon - reg.carr_lon + 180) % 360 - 180
    assert drift == pytest.approx(expected, abs=1e-6)
    assert noaa.region(9000, t) is None
    early = noaa.active_regions(parse_drms_time("2010.05.20"))
    assert min(r.number for r in early) >= 11000
