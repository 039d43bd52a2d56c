"""Export file names from filenamefmt templates (exputil.c rules) on real emulator records."""

from pathlib import Path

import pytest

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.catalogue.filenames import (
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


# ----------------------------------------------------------------------------- files stay in the root
# jsoc_export_as_fits.c writes "%s/%s" % (export directory, name) and lists basename(path)
# (fitsexport.c); jsoc_fetch.c's illegalArg refuses only ';' and unbalanced quotes.
SPEC = "hmi.M_45s[2014.02.05_08:00:00_TAI/90s]{magnetogram}"


def _export(emulator, email, fmt, method="url"):
    import drms  # noqa: PLC0415 (only these tests need a client)

    client = drms.Client(server=emulator.server_config, email=email)
    request = client.export(SPEC, method=method, protocol="fits", filenamefmt=fmt)
    try:
        request.wait(sleep=0)
    except drms.DrmsExportError as err:
        return request, err
    return request, None


def _files_under(path):
    return sorted(p for p in path.rglob("*") if p.is_file())


def test_absolute_filenamefmt_stays_in_the_export_directory(emulator, email, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    _, error = _export(emulator, email, f"{outside}/abs.{{T_REC:A}}.fits")
    assert "Failure exporting segment 'magnetogram'" in str(error)  # CFITSIO makes no directories
    assert _files_under(outside) == []
    request, error = _export(emulator, email, "/abs.{T_REC:A}.fits")  # "<dir>//abs..." is in the directory
    assert error is None
    names = list(request.data["filename"])
    assert names == ["abs.20140205_080000_TAI.fits", "abs.20140205_080045_TAI.fits"]  # basename, as JSOC lists
    (tmp_path / "got").mkdir()
    got = request.download(tmp_path / "got").download
    assert sorted(Path(p).name for p in got) == names


@pytest.mark.parametrize(
    "fmt", ["../escaped.{T_REC:A}.fits", "x/../../escaped.{T_REC:A}.fits", "sub/{T_REC:A}.fits", "/", "."]
)
def test_filenamefmt_outside_or_below_the_export_directory_fails_the_export(emulator, email, tmp_path, fmt):
    before = set(_files_under(tmp_path))
    _, error = _export(emulator, email, fmt)
    assert error is not None
    assert "Failure exporting segment 'magnetogram'" in str(error)
    assert not any("escaped" in p.name for p in set(_files_under(tmp_path)) - before)
    assert not list(emulator.root.rglob("escaped*"))  # '..' would have landed beside the export directory


def test_url_tar_with_an_absolute_name_deletes_nothing_outside(emulator, email, tmp_path):
    victim = tmp_path / "victim.fits"
    victim.write_bytes(b"keep me")
    _, error = _export(emulator, email, str(victim), method="url-tar")
    assert "Failure exporting segment" in str(error)
    assert victim.read_bytes() == b"keep me"
