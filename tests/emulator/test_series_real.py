"""
The emulated series have JSOC's real keywords, segments and prime keys.

The expected names below are those of the ``jsoc_info?op=series_struct`` replies jsoc.stanford.edu
sent on 2020-04-10, recorded by sunpy's test suite (``sunpy/sunpy@b361c0cd``,
``sunpy/net/jsoc/tests/cassettes/test_lookup_records_errors.yaml`` for ``aia.lev1_euv_12s``,
``test_build_table.yaml`` for ``hmi.m_45s``), in JSOC's order. The other served series follow
the derivations stated in ``sunpy_jsoc_cutout/testing/catalogue/series_tables.py``.
"""

import json
import urllib.request

import pytest

from sunpy_jsoc_cutout.testing import JSOCEmulator

AIA_EUV_12S_KEYWORDS = """
    T_REC T_OBS WAVELNTH DATE FSN EXPTIME QUALITY ORIGIN TELESCOP INSTRUME DATE__OBS CAMERA
    IMG_TYPE EXPSDEV INT_TIME WAVEUNIT WAVE_STR FID QUALLEV0 TOTVALS DATAVALS MISSVALS PERCENTD
    DATAMIN DATAMAX DATAMEDN DATAMEAN DATARMS DATASKEW DATAKURT DATACENT DATAP01 DATAP10 DATAP25
    DATAP75 DATAP90 DATAP95 DATAP98 DATAP99 NSATPIX OSCNMEAN OSCNRMS FLAT_REC NSPIKES CTYPE1
    CUNIT1 CRVAL1 CDELT1 CRPIX1 CTYPE2 CUNIT2 CRVAL2 CDELT2 CRPIX2 CROTA2 R_SUN MPO_REC INST_ROT
    IMSCL_MP X0_MP Y0_MP ASD_REC SAT_Y0 SAT_Z0 SAT_ROT ACS_MODE ACS_ECLP ACS_SUNP ACS_SAFE
    ACS_CGT ORB_REC DSUN_REF DSUN_OBS RSUN_REF RSUN_OBS GAEX_OBS GAEY_OBS GAEZ_OBS HAEX_OBS
    HAEY_OBS HAEZ_OBS OBS_VR OBS_VW OBS_VN CAR_ROT CRLT_OBS CRLN_OBS HGLN_OBS HGLT_OBS ROI_NWIN
    ROI_SUM ROI_NAX1 ROI_NAY1 ROI_LLX1 ROI_LLY1 ROI_NAX2 ROI_NAY2 ROI_LLX2 ROI_LLY2 PIXLUNIT
    DN_GAIN EFF_AREA EFF_AR_V TEMPCCD TEMPGT TEMPSMIR TEMPFPAD ISPSNAME ISPPKTIM ISPPKTVN
    AIVNMST AIMGOTS ASQHDR ASQTNUM ASQFSN AIAHFSN AECDELAY AIAECTI AIASEN AIFDBID AIMGOTSS
    AIFCPS AIFTSWTH AIFRMLID AIFTSID AIHISMXB AIHIS192 AIHIS348 AIHIS604 AIHIS860 AIFWEN
    AIMGSHCE AECTYPE AECMODE AISTATE AIAECENF AIFILTYP AIMSHOBC AIMSHOBE AIMSHOTC AIMSHOTE
    AIMSHCBC AIMSHCBE AIMSHCTC AIMSHCTE AICFGDL1 AICFGDL2 AICFGDL3 AICFGDL4 AIFOENFL AIMGFSN
    AIMGTYP AIAWVLEN AIAGP1 AIAGP2 AIAGP3 AIAGP4 AIAGP5 AIAGP6 AIAGP7 AIAGP8 AIAGP9 AIAGP10
    AGT1SVY AGT1SVZ AGT2SVY AGT2SVZ AGT3SVY AGT3SVZ AGT4SVY AGT4SVZ AIMGSHEN KEYWDDOC LVL_NUM
    T_REC_step T_REC_epoch T_REC_index
""".split()
# the keywords of aia.lev1_euv_12s without a "lev1->NAME" linkinfo (all the others have one)
AIA_EUV_12S_UNLINKED = """
    T_REC WAVELNTH DATE FSN EXPTIME QUALITY DATAMIN DATAMEAN DATARMS DATACENT NSATPIX NSPIKES
    CRPIX1 CRPIX2 TEMPCCD TEMPGT TEMPSMIR TEMPFPAD AIMGOTS AIFDBID AIFCPS AIFTSID AIHIS192
    AIHIS348 AIHIS604 AIHIS860 AIFWEN AIMGSHCE AECTYPE AIAGP6 T_REC_step T_REC_epoch T_REC_index
""".split()
HMI_M_45S_KEYWORDS = """
    cparms_sg000 magnetogram_bzero magnetogram_bscale DATE DATE__OBS TELESCOP INSTRUME WAVELNTH
    CAMERA BUNIT ORIGIN CONTENT QUALITY QUALLEV1 HISTORY COMMENT BLD_VERS HCAMID SOURCE TOTVALS
    DATAVALS MISSVALS SATVALS DATAMIN2 DATAMAX2 DATAMED2 DATAMEA2 DATARMS2 DATASKE2 DATAKUR2
    DATAMIN DATAMAX DATAMEDN DATAMEAN DATARMS DATASKEW DATAKURT CTYPE1 CTYPE2 CRPIX1 CRPIX2
    CRVAL1 CRVAL2 CDELT1 CDELT2 CUNIT1 CUNIT2 CROTA2 CRDER1 CRDER2 CSYSER1 CSYSER2 WCSNAME
    DSUN_OBS DSUN_REF RSUN_REF CRLN_OBS CRLT_OBS CAR_ROT OBS_VR OBS_VW OBS_VN RSUN_OBS T_OBS
    T_REC T_REC_epoch T_REC_step T_REC_unit CADENCE DATASIGN HFLID HCFTID QLOOK CAL_FSN LUTQUERY
    TSEL TFRONT TINTNUM SINTNUM DISTCOEF ROTCOEF ODICOEFF OROCOEFF POLCALM CODEVER0 CODEVER1
    CODEVER2 CODEVER3 CALVER64 T_REC_index
""".split()
RECORDED = {
    "aia.lev1_euv_12s": {
        "keywords": AIA_EUV_12S_KEYWORDS,
        "segments": ["image", "spikes"],
        "links": [{"name": "lev1", "target": "aia.lev1", "kind": "DYNAMIC", "note": "Link to AIA level 1"}],
        "primekeys": ["T_REC", "WAVELNTH"],
        "primekeysinfo": [{"name": "T_REC", "slotted": 1, "step": "12.000000"}, {"name": "WAVELNTH", "slotted": 0}],
        "facts": {"retention": 0, "stagingretention": 3, "unitsize": 1, "archive": 0, "tapegroup": 0},
    },
    "hmi.M_45s": {
        "keywords": HMI_M_45S_KEYWORDS,
        "segments": ["magnetogram"],
        "links": [],
        "primekeys": ["T_REC", "CAMERA"],
        "primekeysinfo": [{"name": "T_REC", "slotted": 1, "step": "45.0"}, {"name": "CAMERA", "slotted": 0}],
        "facts": {"retention": 10000, "stagingretention": 3, "unitsize": 32, "archive": 1, "tapegroup": 6},
    },
}
SERVED = [
    "aia.lev1",
    "aia.lev1_euv_12s",
    "aia.lev1_uv_24s",
    "aia.lev1_vis_1h",
    "hmi.M_45s",
    "hmi.Ic_45s",
    "hmi.M_720s",
    "hmi.Ic_720s",
]


@pytest.fixture(scope="module")
def structs():
    """``series_struct`` of every served SDO series, fetched over HTTP from one emulator."""
    with JSOCEmulator(image_size=64) as emulator:
        out = {}
        for name in SERVED:
            url = f"{emulator.url}cgi-bin/ajax/jsoc_info?op=series_struct&ds={name}"
            with urllib.request.urlopen(url) as reply:
                out[name] = json.loads(reply.read().decode("latin1"))
        return out


def _names(struct, part="keywords"):
    return [item["name"] for item in struct[part]]


@pytest.mark.parametrize("series", sorted(RECORDED))
def test_recorded_series_have_the_real_names_in_order(structs, series):
    struct, real = structs[series], RECORDED[series]
    assert struct["status"] == 0
    assert _names(struct) == real["keywords"]
    assert _names(struct, "segments") == real["segments"]
    assert struct["links"] == real["links"]
    assert struct["primekeys"] == real["primekeys"]
    assert struct["primekeysinfo"] == real["primekeysinfo"]
    assert {key: struct[key] for key in real["facts"]} == real["facts"]


def test_aia_euv_12s_links_every_keyword_but_its_own_to_the_same_name_in_lev1(structs):
    keywords = structs["aia.lev1_euv_12s"]["keywords"]
    assert [k["name"] for k in keywords if "linkinfo" not in k] == AIA_EUV_12S_UNLINKED
    assert all(k["linkinfo"] == f"lev1->{k['name']}" for k in keywords if "linkinfo" in k)
    t_obs = next(k for k in keywords if k["name"] == "T_OBS")
    assert (t_obs["type"], t_obs["units"], t_obs["defval"]) == ("time", "ISO", "-4712.01.01_11:59:27.82Z")


def test_real_observer_and_calibration_keywords(structs):
    for name in SERVED:
        keys = set(_names(structs[name]))
        assert {"DSUN_OBS", "CRLN_OBS", "CRLT_OBS"} <= keys, name
        if name.startswith("hmi."):
            assert "CALVER64" in keys, name
            assert not {"HGLN_OBS", "HGLT_OBS", "EXPTIME"} & keys, name
        else:
            assert "CALVER64" not in keys, name
            assert {"HGLN_OBS", "HGLT_OBS"} <= keys, name


@pytest.mark.parametrize(("series", "step"), [("aia.lev1_uv_24s", "24.000000"), ("aia.lev1_vis_1h", "3600.000000")])
def test_other_slotted_aia_series_are_euv_12s_with_their_step(structs, series, step):
    euv, struct = structs["aia.lev1_euv_12s"], structs[series]
    expected = [dict(k, defval=step) if k["name"] == "T_REC_step" else k for k in euv["keywords"]]
    assert struct["keywords"] == expected
    assert struct["segments"] == euv["segments"]
    assert struct["links"] == euv["links"]
    assert struct["primekeysinfo"][0] == {"name": "T_REC", "slotted": 1, "step": step}


def test_aia_lev1_is_the_link_target_of_euv_12s_plus_its_own_facts(structs):
    euv, lev1 = structs["aia.lev1_euv_12s"], structs["aia.lev1"]
    without_links = [{k: v for k, v in kw.items() if k != "linkinfo"} for kw in euv["keywords"]]
    names = _names(lev1)
    assert names[: names.index("LVL_NUM") + 1] + names[names.index("CALVER32") + 1 :] == _names(euv)
    assert names[names.index("LVL_NUM") + 1] == "CALVER32"
    assert not any("linkinfo" in k for k in lev1["keywords"])
    by_name = {k["name"]: k for k in lev1["keywords"]}
    for kw in without_links:  # same facts, but T_REC's slotting is aia.lev1's own
        if kw["name"] not in ("T_REC_step", "T_REC_epoch"):
            assert {k: by_name[kw["name"]][k] for k in ("type", "recscope", "defval", "units")} == {
                k: kw[k] for k in ("type", "recscope", "defval", "units")
            }
    assert by_name["T_REC_epoch"]["defval"] == "1977.01.01_00:00:00_TAI"
    assert by_name["T_REC_step"]["defval"] == "1.000000"
    assert lev1["primekeys"] == ["T_REC", "FSN"]
    assert lev1["primekeysinfo"] == [{"name": "T_REC", "slotted": 1, "step": "1.000000"}, {"name": "FSN", "slotted": 0}]
    assert not {"CALVER64"} & set(names)


@pytest.mark.parametrize(
    ("series", "segment", "step", "bunit"),
    [
        ("hmi.Ic_45s", "continuum", "45.0", "DN/s"),
        ("hmi.M_720s", "magnetogram", "720.0", "Gauss"),
        ("hmi.Ic_720s", "continuum", "720.0", "DN/s"),
    ],
)
def test_other_hmi_series_are_m_45s_with_their_segment_and_step(structs, series, segment, step, bunit):
    m45, struct = structs["hmi.M_45s"], structs[series]
    rename = {"magnetogram_bzero": f"{segment}_bzero", "magnetogram_bscale": f"{segment}_bscale"}
    assert _names(struct) == [rename.get(n, n) for n in _names(m45)]
    assert _names(struct, "segments") == [segment]
    by_name = {k["name"]: k for k in struct["keywords"]}
    assert by_name["T_REC_step"]["defval"] == by_name["CADENCE"]["defval"] == step
    assert by_name["BUNIT"]["defval"] == bunit
    assert by_name["DATAMEAN"]["units"] == bunit
    assert struct["primekeysinfo"][0] == {"name": "T_REC", "slotted": 1, "step": step}
    unchanged = {"T_REC", "T_OBS", "CRLN_OBS", "CALVER64", "QUALITY", "CAR_ROT"}
    assert [by_name[k["name"]] for k in m45["keywords"] if k["name"] in unchanged] == [
        k for k in m45["keywords"] if k["name"] in unchanged
    ]
