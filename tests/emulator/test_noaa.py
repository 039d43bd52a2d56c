"""
NOAA active regions: the real region 11158 (February 2011), the public copy
``jsoc.noaa_active_regions`` of ``su_rsb.NOAA_ActiveRegions`` and the knob that makes the latter
unknown, as on the public JSOC (``docs/dev_guide/jsoc_fidelity.rst``, NOAA regions b).
"""

import json
import urllib.parse
import urllib.request

import drms
import pytest

from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.catalogue.errors import UnknownSeries
from sunpy_jsoc_cutout.testing.catalogue.jsoc_info import jsoc_info, show_series, showextseries
from sunpy_jsoc_cutout.testing.common.timeutil import parse_drms_time
from sunpy_jsoc_cutout.testing.server.control_client import EmulatorControl, EmulatorControlError
from sunpy_jsoc_cutout.testing.sun.noaa import REAL_REGIONS, carrington_rate, l0_deg, region, region_days

PRIVATE = "su_rsb.NOAA_ActiveRegions"
PUBLIC = "jsoc.noaa_active_regions"
KEYS = "ObservationTime,LatitudeHG,LongitudeCM,LongitudeHG"


def get(emulator, endpoint, **params):
    url = f"{emulator.url}cgi-bin/ajax/{endpoint}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url) as reply:
        return json.loads(reply.read().decode("latin1"))


def values(reply):
    return {k["name"]: k["values"] for k in reply["keywords"]}


@pytest.fixture(scope="module")
def cat():
    return Catalogue()


def test_real_region_11158_has_its_published_dates_and_positions(cat):
    # lm-jps/proj cgem_cutout.c L20 / multi_cut.c L36: S20.4 W5.6 at 2011.02.14_12:00_TAI;
    # cgem_prep.c L5: S20.4 W18.6 at 2011.02.15_12:00_TAI (the HMI team's AR 11158 patch centre)
    assert 11158 in REAL_REGIONS
    rows = values(jsoc_info({"op": "rs_list", "ds": f"{PRIVATE}[][11158]", "key": KEYS}, cat))
    days = [t[:10] for t in rows["ObservationTime"]]
    assert days == [f"2011.02.{d:02d}" for d in range(11, 21)]  # emerged Feb 10; west limb about Feb 21
    assert set(rows["LatitudeHG"]) == {"-20"}
    by_day = dict(zip(days, (int(v) for v in rows["LongitudeCM"]), strict=True))
    # the records are at 00:00 UT, half a day (6.5 degrees of rotation) before the published noon positions
    for day, published in (("2011.02.14", 5.6), ("2011.02.15", 18.6)):
        assert abs(by_day[day] + 6.5 - published) <= 1.0
    assert by_day["2011.02.14"] == -1  # the record nearest central meridian (the export page's choice)
    assert abs(by_day["2011.02.11"] - -38) <= 3  # solen.info: S873 at S19E38 at midnight Feb 10/11
    # nearly fixed in the Carrington frame, at bmap.c L19's longitude 35.0
    assert {int(v) for v in rows["LongitudeHG"]} <= {34, 35}


def test_real_region_11158_fit_reproduces_the_cited_positions():
    for when, lat, cm in REAL_REGIONS[11158].observations:
        t = parse_drms_time(when)
        reg = region(11158, t)
        assert reg.lat == pytest.approx(lat)
        assert (reg.carr_lon - l0_deg(t) + 180) % 360 - 180 == pytest.approx(cm, abs=0.1)
    assert carrington_rate(-20.4) == pytest.approx(-0.1425, abs=1e-3)


def test_synthetic_11158_of_september_2010_is_gone(cat):
    reply = jsoc_info({"op": "rs_list", "ds": f"{PRIVATE}[2010.08.01_UT-2010.10.31_UT][11158]", "key": KEYS}, cat)
    assert reply["count"] == 0
    assert all(t > 1.0e9 for t, _, _ in region_days(11158))  # 2011 (TAI seconds since 1977)


def test_public_copy_has_the_same_rows(cat):
    private = jsoc_info({"op": "rs_list", "ds": f"{PRIVATE}[][11158]", "key": KEYS}, cat)
    for ds in (f"{PUBLIC}[][11158]", f"{PUBLIC}[? RegionNumber=11158 ?]", f"{PUBLIC}[? regionnumber = 11158 ?]"):
        public = jsoc_info({"op": "rs_list", "ds": ds, "key": KEYS}, cat)
        assert public["status"] == 0
        assert public["keywords"] == private["keywords"]  # names echo the request, as jsoc_info does
    # a whole day of both series: the same regions and values
    day = "2011.02.15_00:00:00_UT"
    keys = "RegionNumber,LatitudeHG,LongitudeCM,LongitudeHG,Area,SpotCount,ZurichClass,MagneticType"
    a = jsoc_info({"op": "rs_list", "ds": f"{PRIVATE}[{day}]", "key": keys}, cat)
    b = jsoc_info({"op": "rs_list", "ds": f"{PUBLIC}[{day}]", "key": keys.lower()}, cat)
    assert a["count"] == b["count"] > 1
    assert [k["values"] for k in a["keywords"]] == [k["values"] for k in b["keywords"]]
    # an unknown region: count 0 and no keywords array (jsoc_info.c L2768-2786)
    empty = jsoc_info({"op": "rs_list", "ds": f"{PUBLIC}[? RegionNumber=99999 ?]", "key": KEYS}, cat)
    assert list(empty) == ["count", "runtime", "status"]
    assert (empty["count"], empty["status"]) == (0, 0)


def test_public_copy_definition(cat):
    public = jsoc_info({"op": "series_struct", "ds": PUBLIC}, cat)
    private = jsoc_info({"op": "series_struct", "ds": PRIVATE}, cat)
    # the trigger's column order (export_db_functions.sql L8), lower case as the ingest script
    # writes them, plus the ingest script's SWPC bookkeeping keywords (L27-28)
    names = [k["name"] for k in public["keywords"]]
    assert names == [
        "observationtime", "regionnumber", "zurichclass", "magnetictype", "spotcount", "area",
        "latitudehg", "longitudehg", "longitudecm", "longitudinalextent", "swpc_file", "swpc_file_mod_time",
    ]  # fmt: skip
    # su_rsb's spelling as JSOC's modules read it (mharp_match.c L188-212)
    assert [k["name"] for k in private["keywords"]] == [
        "ObservationTime", "RegionNumber", "ZurichClass", "MagneticType", "SpotCount", "Area",
        "LatitudeHG", "LongitudeHG", "LongitudeCM", "LongitudinalExtent",
    ]  # fmt: skip
    assert public["primekeys"] == ["observationtime", "regionnumber"]
    assert private["primekeys"] == ["ObservationTime", "RegionNumber"]
    bookkeeping = jsoc_info({"op": "rs_list", "ds": f"{PUBLIC}[][11158]", "key": "swpc_file"}, cat)
    assert set(values(bookkeeping)["swpc_file"]) == {"MISSING"}  # rows copied from su_rsb carry none
    assert [d["name"] for d in show_series({"filter": "noaa"}, cat)["names"]] == [PRIVATE, PUBLIC]


def test_hidden_series_knob_in_the_catalogue():
    cat = Catalogue(hidden_series=[PRIVATE.lower()])
    assert cat.hidden_series == [PRIVATE]
    with pytest.raises(UnknownSeries):
        cat.get_series(PRIVATE)
    with pytest.raises(UnknownSeries):
        cat.hide_series("no.such_series")
    # the exact replies of jsoc_info.c for a series the database does not have
    rs = jsoc_info({"op": "rs_list", "ds": f"{PRIVATE}[][11158]", "key": KEYS}, cat)
    assert json.dumps(rs, separators=(",", ":")) == '{"status":1,"error":" jsoc_info: series not found."}'
    assert jsoc_info({"op": "series_struct", "ds": PRIVATE}, cat) == {"status": 1, "error": "series not found"}
    assert jsoc_info({"op": "rs_summary", "ds": f"{PRIVATE}[][11158]"}, cat) == {
        "status": 1,
        "error": "series not found",
    }
    assert PRIVATE not in showextseries({"filter": "noaa"}, cat)["seriesList"]
    assert jsoc_info({"op": "rs_list", "ds": f"{PUBLIC}[][11158]", "key": KEYS}, cat)["count"] == 10
    cat.show_series(PRIVATE)
    assert cat.hidden_series == []
    assert jsoc_info({"op": "rs_list", "ds": f"{PRIVATE}[][11158]", "key": KEYS}, cat)["count"] == 10


def test_public_jsoc_without_su_rsb_over_http(tmp_path):
    with JSOCEmulator(image_size=256, root=tmp_path / "sums", hidden_series=[PRIVATE]) as emu:
        assert emu.hidden_series == [PRIVATE]
        reply = get(emu, "jsoc_info", op="rs_list", ds=f"{PRIVATE}[][11158]", key=KEYS)
        assert reply == {"status": 1, "error": " jsoc_info: series not found."}
        public = get(emu, "jsoc_info", op="rs_list", ds=f"{PUBLIC}[? RegionNumber=11158 ?]", key=KEYS)
        assert public["count"] == 10
        client = drms.Client(server=emu.server_config)
        assert PRIVATE not in client.series("noaa")
        assert PUBLIC in client.series("noaa")
        control = EmulatorControl(emu.url)
        assert control.hidden_series() == [PRIVATE]
        assert control.set_hidden_series(show=[PRIVATE]) == []
        assert get(emu, "jsoc_info", op="rs_list", ds=f"{PRIVATE}[][11158]", key=KEYS)["count"] == 10
        assert control.set_hidden_series(hide=[PRIVATE]) == [PRIVATE]
        assert get(emu, "jsoc_info", op="rs_list", ds=f"{PRIVATE}[][11158]", key=KEYS)["status"] == 1
        with pytest.raises(EmulatorControlError, match="no stored series"):
            control.set_hidden_series(hide=["no.such_series"])
        with pytest.raises(EmulatorControlError, match="unknown keys"):
            control._call("POST", "series", {"conceal": [PRIVATE]})
