"""Export file names from filenamefmt templates (exputil.c rules) on real emulator records."""

import pytest

from sunpy_jsoc_cutout.testing.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.filenames import (
    InvalidFilenameFormat,
    RecordNames,
    UnknownFilenameKeyword,
    make_filename,
)


@pytest.fixture(scope="module")
def catalogue():
    return Catalogue()


@pytest.fixture(scope="module")
def hmi(catalogue):
    records = catalogue.query("hmi.M_45s[2014.01.01_00:00:00_TAI]")
    return RecordNames(records, 0, records.series.segment("magnetogram"))


@pytest.fixture(scope="module")
def aia(catalogue):
    records = catalogue.query("aia.lev1_euv_12s[2010-07-30T13:30:02Z][193]")
    return records, RecordNames(records, 0, records.series.segment("image"))


def test_drms_default_template_for_hmi(hmi):
    assert (
        make_filename("hmi.m_45s.{T_REC:A}.{CAMERA}.{segment}", hmi)
        == "hmi.m_45s.20140101_000000_TAI.2.magnetogram.fits"
    )


def test_server_default_template(hmi):
    expected = f"hmi.M_45s.{hmi.recnum}.magnetogram.fits"
    assert make_filename(None, hmi) == expected
    assert make_filename("{seriesname}.{recnum:%d}.{segment}", hmi) == expected
    assert make_filename("{recnum:%012lld}", hmi) == f"{hmi.recnum:012d}"


def test_linked_segment_takes_time_from_the_target_record(aia):
    records, names = aia
    lev1_t_rec = records.link_target("lev1").keyword_strings("T_REC")[0]
    name = make_filename("aia.lev1_euv_12s.{T_REC:A}.{WAVELNTH}.{segment}", names)
    assert name == f"aia.lev1_euv_12s.{lev1_t_rec.replace(':', '')}.193.image_lev1.fits"
    assert name.startswith("aia.lev1_euv_12s.2010-07-30T1330")
    assert lev1_t_rec != "2010-07-30T13:30:02Z"
    # Without a layout exputil does not follow the link: the slot time.
    assert make_filename("{T_REC}", names) == "2010-07-30T13:30:02Z"


def test_time_layouts(hmi):
    assert make_filename("{T_REC:D}", hmi) == "@2014@01@01@000000_TAI"
    assert make_filename("{T_REC:A-1}", hmi) == "20140101_0000_TAI"
    assert make_filename("{T_REC:-2}", hmi) == "2014.01.01_00_TAI"
    assert make_filename("{T_REC:A,UTC}", hmi).endswith("_UTC")


def test_counter_and_printf_layouts(hmi):
    assert make_filename("{#}", hmi, counter=3) == "00003"
    assert make_filename("x{#:%03d}.{segment}", hmi, counter=7) == "x007.magnetogram.fits"
    assert make_filename("{WAVELNTH:%.1f}", hmi) == "6173.0"
    assert make_filename("{CAMERA:%5d}", hmi) == "2"  # whitespace stripped from printf output
    assert make_filename("a{}b", hmi) == "ab"


def test_errors(hmi):
    with pytest.raises(UnknownFilenameKeyword, match=r"do not exist in series 'hmi\.M_45s'"):
        make_filename("{NOPE}.{segment}", hmi)
    with pytest.raises(InvalidFilenameFormat, match="Invalid file-name format template"):
        make_filename("{T_REC", hmi)
    with pytest.raises(InvalidFilenameFormat):
        make_filename("x" * 128, hmi)
    assert make_filename("x" * 127, hmi) == "x" * 127
