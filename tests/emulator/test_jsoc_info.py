"""jsoc_info / show_series / showextseries reply shapes, and that drms parses them."""

from types import SimpleNamespace
from urllib.parse import parse_qsl, urlsplit

import drms
import drms.json
import pytest

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.catalogue.jsoc_info import jsoc_info, show_series, showextseries


@pytest.fixture(scope="module")
def cat():
    return Catalogue()


STRUCT_KEYS = [
    "note",
    "retention",
    "stagingretention",
    "unitsize",
    "archive",
    "tapegroup",
    "primekeys",
    "primekeysinfo",
    "dbindex",
    "keywords",
    "segments",
    "links",
    "Interval",
    "runtime",
    "status",
]


def test_series_struct_shape_hmi(cat):
    reply = jsoc_info({"op": "series_struct", "ds": "hmi.m_45s"}, cat)
    assert list(reply) == STRUCT_KEYS
    assert reply["status"] == 0
    assert reply["primekeys"] == ["T_REC", "CAMERA"]
    assert reply["primekeysinfo"] == [{"name": "T_REC", "slotted": 1, "step": "45.0"}, {"name": "CAMERA", "slotted": 0}]
    t_rec = next(k for k in reply["keywords"] if k["name"] == "T_REC")
    assert t_rec == {
        "name": "T_REC",
        "type": "time",
        "recscope": "ts_eq",
        "defval": "-4712.01.01_11:59:28_TAI",
        "units": "TAI",
        "note": t_rec["note"],
    }
    assert reply["segments"] == [
        {
            "name": "magnetogram",
            "type": "int",
            "units": "Gauss",
            "protocol": "fits",
            "dims": "4096x4096",
            "note": "magnetogram",
        }
    ]
    assert reply["links"] == []
    interval = reply["Interval"]
    assert interval["FirstRecord"] == "hmi.M_45s[2010.05.13_00:00:45_TAI][2]"
    assert interval["FirstRecnum"] == 1
    assert interval["LastRecnum"] == interval["MaxRecnum"] > 10**7


def test_series_struct_linked_series(cat):
    reply = jsoc_info({"op": "series_struct", "ds": "aia.lev1_euv_12s[2014.01.01]"}, cat)
    assert reply["links"] == [{"name": "lev1", "target": "aia.lev1", "kind": "DYNAMIC", "note": "Link to AIA level 1"}]
    image = reply["segments"][0]
    assert (image["name"], image["protocol"], image["units"], image["dims"]) == ("image", "link via lev1", None, None)
    kw = {k["name"]: k for k in reply["keywords"]}
    assert kw["T_OBS"]["linkinfo"] == "lev1->T_OBS"
    assert "linkinfo" not in kw["T_REC"]
    assert jsoc_info({"op": "series_struct", "ds": "aia.lev1"}, cat)["primekeys"] == ["T_REC", "FSN"]


def test_rs_summary_and_errors(cat):
    ds = "aia.lev1[2014.02.05_08:00-2014.02.05_16:00][? WAVELNTH=171 ?]"
    reply = jsoc_info({"op": "rs_summary", "ds": ds}, cat)
    assert list(reply) == ["count", "runtime", "status"]
    assert reply["count"] == 2401
    # jsoc_info.c: series_struct says "series not found" (L2214), rs_list the longer text (L2740)
    assert jsoc_info({"op": "series_struct", "ds": "no.such"}, cat) == {"status": 1, "error": "series not found"}
    assert jsoc_info({"op": "rs_list", "ds": "no.such[]", "key": "T_REC"}, cat) == {
        "status": 1,
        "error": " jsoc_info: series not found.",
    }
    bad = jsoc_info({"op": "rs_list", "ds": "hmi.M_45s[nonsense", "key": "T_REC"}, cat)
    assert bad["status"] == 1
    assert bad["error"]


def test_rs_list_keywords_segments_links_recinfo(cat):
    reply = jsoc_info(
        {
            "op": "rs_list",
            "ds": "aia.lev1_euv_12s[2014-01-01T00:00:01Z/24s][304]",
            "key": "T_REC,QUALITY,*recnum*,NOPE",
            "seg": "image,bogus",
            "link": "lev1,zzz",
            "R": "1",
        },
        cat,
    )
    assert list(reply) == ["recinfo", "keywords", "segments", "links", "count", "runtime", "status"]
    assert reply["recinfo"][0] == {"name": "aia.lev1_euv_12s[2014-01-01T00:00:01Z][304]", "online": 1}
    values = {k["name"]: k["values"] for k in reply["keywords"]}
    assert values["T_REC"] == ["2014-01-01T00:00:01Z", "2014-01-01T00:00:13Z"]
    assert values["QUALITY"] == ["0x00000000", "0x00000000"]
    assert all(isinstance(v, int) for v in values["*recnum*"])
    assert values["NOPE"] == ["Invalid KeyLink"] * 2
    image, bogus = reply["segments"]
    assert all(p.startswith("/SUM") and p.endswith("/image_lev1.fits") for p in image["values"])
    assert image["dims"] == ["4096x4096"] * 2
    assert image["cparms"] == ["compress Rice"] * 2
    assert bogus["values"] == ["InvalidSegName"] * 2
    lev1, zzz = reply["links"]
    assert lev1["values"][0].startswith("aia.lev1[2014-01-01T00:00:09Z][")
    assert zzz["values"] == ["Invalid_Link"] * 2


def test_rs_list_all_none_limits_and_empty(cat):
    ds = "hmi.M_45s[2014.02.05_08:00_TAI/10m]"
    everything = jsoc_info({"op": "rs_list", "ds": ds, "key": "**ALL**", "seg": "**NONE**"}, cat)
    # **ALL** lists every keyword but the slot index T_REC_index (recorded key=**ALL** reply, 2020)
    keywords = [k.name for k in cat.get_series("hmi.M_45s").keywords]
    assert [k["name"] for k in everything["keywords"]] == [k for k in keywords if k != "T_REC_index"]
    assert everything["segments"] == []
    assert everything["count"] == 13
    last = jsoc_info({"op": "rs_list", "ds": ds, "key": "T_REC", "n": "-1"}, cat)
    assert last["keywords"][0]["values"] == ["2014.02.05_08:09:00_TAI"]
    assert jsoc_info({"op": "rs_list", "ds": "hmi.M_45s[2001.01.01]", "key": "T_REC"}, cat)["count"] == 0
    assert set(jsoc_info({"op": "rs_list", "ds": "hmi.M_45s[2001.01.01]", "key": "T_REC"}, cat)) == {
        "count",
        "runtime",
        "status",
    }
    capped = jsoc_info({"op": "rs_list", "ds": ds, "key": "T_REC"}, cat, max_list=5)
    assert capped["status"] == 1
    assert "too many records" in capped["error"]


def test_series_lists(cat):
    reply = show_series({"filter": "^hmi"}, cat)
    assert reply["status"] == 0
    assert reply["n"] == 4
    assert reply["names"][0] == {
        "name": "hmi.M_45s",
        "primekeys": "T_REC, CAMERA",
        "note": "magnetograms with a cadence of 45 seconds.",
    }
    ext = showextseries({"dbhost": "hmidb2", "filter": "aia"}, cat)
    assert ext["seriesList"] == ["aia.lev1", "aia.lev1_euv_12s", "aia.lev1_uv_24s", "aia.lev1_vis_1h"]
    info = showextseries({"filter": "NOAA", "info": "1"}, cat)
    assert list(info["seriesList"][0]) == ["su_rsb.NOAA_ActiveRegions"]


class EmulatedJson(drms.json.HttpJsonClient):
    """drms's own JSON client (URL building included) with the HTTP round trip replaced by a
    direct call of the emulator's handlers."""

    def __init__(self, cat):
        super().__init__("jsoc")
        self.cat = cat
        self.urls = []

    def _json_request(self, url):
        self.urls.append(url)
        parts = urlsplit(url)
        params = dict(parse_qsl(parts.query))
        if parts.path.endswith("jsoc_info"):
            return SimpleNamespace(data=jsoc_info(params, self.cat))
        return SimpleNamespace(data=showextseries(params, self.cat))


def test_drms_client_parses_the_replies(cat):
    client = drms.Client()
    client._json = EmulatedJson(cat)
    info = client.info("aia.lev1_euv_12s")
    assert info.primekeys == ["T_REC", "WAVELNTH"]
    assert info.keywords.loc["T_OBS", "linkinfo"] == "lev1->T_OBS"
    assert list(info.segments.index) == ["image", "spikes"]
    # QUALITY is skipped: drms 0.9's hex conversion does not fire with pandas 3 string columns
    # (it would turn "0x00000000" into NaN), whatever the server sends.
    keys, segs = client.query(
        "aia.lev1_euv_12s[2014-01-01T00:00:01Z/1m][171]",
        key="T_REC,QUALITY,EXPTIME,FSN",
        seg="image",
        rec_index=True,
        skip_conversion=["QUALITY"],
    )
    assert len(keys) == 5
    assert keys.index[0] == "aia.lev1_euv_12s[2014-01-01T00:00:01Z][171]"
    assert list(keys["QUALITY"]) == ["0x00000000"] * 5
    assert keys["EXPTIME"].dtype.kind == "f"
    assert keys["FSN"].dtype.kind in "if"
    assert (keys["FSN"] > 0).all()
    assert segs["image"].str.endswith("image_lev1.fits").all()
    assert client.pkeys("hmi.M_45s") == ["T_REC", "CAMERA"]
    empty = client.query("hmi.M_45s[2001.01.01]", key="T_REC")
    assert len(empty) == 0
    assert "aia.lev1_euv_12s" in client.series("aia")
    assert all("127.0.0.1" not in u for u in client._json.urls)  # nothing left the process
