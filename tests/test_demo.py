"""
The offline demo, ``python -m sunpy_jsoc_cutout.demo``, run end to end against the emulator.
"""

import contextlib
import io
import re
import subprocess
import sys

import pytest

import sunpy.map
from sunpy.map.sources import AIAMap

from sunpy_jsoc_cutout import demo

IMAGE_SIZE = 256
REQUEST_LINE = re.compile(r"^(?P<label>[^:\n]+): (?P<id>JSOC_\d{8}_\d{3,})$", re.MULTILINE)
FIRST_RECORD = re.compile(r"^  first record: (?P<record>\S+)$", re.MULTILINE)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run the command once (it starts and stops its own emulator) and keep its output."""
    out = tmp_path_factory.mktemp("demo")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = demo.main(["--out", str(out), "--image-size", str(IMAGE_SIZE)])
    return status, stdout.getvalue(), out


def test_demo_succeeds_and_reports_two_distinct_requests(demo_run):
    status, output, out = demo_run
    assert status == 0
    requests = REQUEST_LINE.findall(output)
    assert [label for label, _ in requests] == [
        "plain url/fits export",
        "im_patch cutout request",
        "Fido cutout request (171 A)",
        "Fido cutout request (304 A)",
    ]
    assert len({request_id for _, request_id in requests}) == 4
    assert "Export plan: 2 JSOC request(s), 12 files" in output
    assert f"Files are in {out.resolve()}" in output


def test_plain_export_downloads_every_record_as_an_aia_map(demo_run):
    _, output, out = demo_run
    files = sorted((out / "plain").iterdir())
    assert len(files) == 3  # 36 s of a 12 s cadence series
    maps = [sunpy.map.Map(path) for path in files]
    for smap in maps:
        assert isinstance(smap, AIAMap)
        assert smap.wavelength.to_value("angstrom") == 171
        assert smap.data.shape == (IMAGE_SIZE, IMAGE_SIZE)
    assert len({smap.date.isot for smap in maps}) == 3
    for path in files:
        assert path.name in output
    first_plain_record = FIRST_RECORD.findall(output)[0]
    assert first_plain_record.startswith("aia.lev1_euv_12s[")


def test_cutout_request_is_processed_by_im_patch(demo_run):
    _, output, out = demo_run
    # Processed records come from the "_mod" output series, as on JSOC.
    first_cutout_record = FIRST_RECORD.findall(output)[1]
    assert first_cutout_record.startswith("aia.lev1_euv_12s_mod[")
    files = sorted((out / "cutout").iterdir())
    assert len(files) == 2
    for path in files:
        assert isinstance(sunpy.map.Map(path), AIAMap)


def test_fido_job_downloads_tracked_cutouts_named_by_the_format(demo_run):
    _, _, out = demo_run
    for wavelength in (171, 304):
        files = sorted((out / "fido" / str(wavelength)).glob("*.fits"))
        assert len(files) == 6  # one hour at a 10-minute cadence
        for path in files:
            assert re.match(rf"aia\.lev1\.2014-02-05T\d{{6}}Z\.{wavelength}\.noproj\.fits$", path.name)
        smap = sunpy.map.Map(files[0])
        assert isinstance(smap, AIAMap)
        assert smap.data.shape == (200, 200)
    assert not list((out / "fido").rglob("*.tar"))


def test_format_summary_lists_ids_records_and_files():
    file = demo.FileSummary("a.fits", "AIA 3", "171.0 Angstrom", (20, 30), "2014-01-01T00:00:01.000")
    export = demo.ExportSummary("plain", "JSOC_20260101_007", "aia.lev1_euv_12s[x]", ("rec[1]",), (file,))
    assert demo.format_summary([export]).splitlines() == [
        "plain: JSOC_20260101_007",
        "  record set: aia.lev1_euv_12s[x]",
        "  records: 1, files: 1",
        "  first record: rec[1]",
        "  a.fits: AIA 3 171.0 Angstrom 30x20 px at 2014-01-01T00:00:01.000",
    ]


def test_demo_is_runnable_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "sunpy_jsoc_cutout.demo", "--help"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("usage: python -m sunpy_jsoc_cutout.demo")
    for option in ("--out", "--image-size", "--time-model"):
        assert option in result.stdout
