"""
Unmodified clients against the emulator: drms (every export method the cutout client relies on)
and sunpy's stock ``JSOCClient`` through Fido.
"""

import dataclasses
import tarfile

import drms
import drms.config
import pytest

import sunpy.map
from sunpy.net import Fido
from sunpy.net import attrs as a

from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.exports.timemodel import FAST

HMI = "hmi.M_45s[2014.01.01_00:00:00_TAI/90s]"
AIA = "aia.lev1_euv_12s[2014-01-01T00:00:01Z/24s][171]"


@pytest.fixture
def client(emulator, email):
    return drms.Client(server=emulator.server_config, email=email)


def test_series_info_and_query(client):
    assert {"hmi.M_45s", "aia.lev1_euv_12s"} <= set(client.series())
    info = client.info("hmi.M_45s")
    assert info.primekeys == ["T_REC", "CAMERA"]
    assert "magnetogram" in info.segments.index
    keys, segments = client.query(HMI, key="T_REC, QUALITY", seg="magnetogram")
    assert keys.T_REC.tolist() == ["2014.01.01_00:00:00_TAI", "2014.01.01_00:00:45_TAI"]
    assert all(path.startswith("/SUM") and path.endswith("/magnetogram.fits") for path in segments.magnetogram)


def test_url_quick_as_is_is_immediate_and_downloads(client, emulator, tmp_path):
    request = client.export(HMI + "{magnetogram}", method="url_quick", protocol="as-is")
    assert request.status == 0
    assert request.id is None
    assert all(url.startswith(emulator.url + "SUM") for url in request.urls.url)
    downloaded = request.download(tmp_path)
    assert len(downloaded) == 2
    for path in downloaded.download:
        assert str(path).endswith(".fits")
        with open(path, "rb") as f:
            assert f.read(9) == b"SIMPLE  ="


def test_url_fits_export_waits_and_downloads_maps(client, emulator, tmp_path):
    request = client.export(AIA + "{image}", method="url", protocol="fits")
    assert request.status == 2
    assert request.id.startswith("JSOC_")
    assert request.wait(sleep=0)
    assert request.has_succeeded()
    downloaded = request.download(tmp_path)
    assert len(downloaded) == 2
    for path in downloaded.download:
        smap = sunpy.map.Map(path)
        assert smap.wavelength.value == 171
        assert smap.data.shape == (emulator.image_size, emulator.image_size)
    polls = [e for e in emulator.request_log if e["params"].get("op") == "exp_status"]
    # A completed exp_status reply is the verbatim index.json: string values.
    assert [e["jsoc_status"] for e in polls][-1] == "0"


def test_url_tar_export_gives_one_tar_with_the_files(client, tmp_path):
    request = client.export(HMI + "{magnetogram}", method="url-tar", protocol="fits")
    assert request.wait(sleep=0)
    assert request.tarfile.endswith(f"{request.id}.tar")
    (url,) = request.urls.url
    assert url.endswith(".tar")
    downloaded = request.download(tmp_path)
    with tarfile.open(downloaded.download[0]) as tar:
        names = tar.getnames()
    assert sum(name.endswith(".fits") for name in names) == 2
    assert any(name.endswith("index.json") for name in names)


def test_im_patch_request_is_accepted_and_completes(client, emulator, tmp_path):
    process = {
        "im_patch": {
            "t_ref": "2014-01-01T00:00:01",
            "t": 0,
            "r": 0,
            "c": 0,
            "locunits": "arcsec",
            "boxunits": "arcsec",
            "x": -300,
            "y": 200,
            "width": 300,
            "height": 200,
        }
    }
    request = client.export(AIA + "{image}", method="url", protocol="fits", process=process)
    assert request.wait(sleep=0)
    downloaded = request.download(tmp_path)
    assert len(downloaded) == 2
    assert all(sunpy.map.Map(path).wavelength.value == 171 for path in downloaded.download)
    (submit,) = [e for e in emulator.request_log if e["params"].get("op") == "exp_request"]
    assert submit["params"]["process=n"].startswith("0|im_patch,t_ref=2014-01-01T00:00:01,t=0,")


def test_stock_sunpy_jsoc_client_through_fido(tmp_path, email):
    original = drms.config._server_configs["jsoc"]
    # Complete on the first poll: the stock client's wait() sleeps 5 s between polls.
    model = dataclasses.replace(FAST, polls_processing=0)
    with JSOCEmulator(time_model=model, image_size=64, registered=(email,)) as emu, emu.use_for_drms_jsoc():
        result = Fido.search(
            a.Time("2014-01-01T00:00:00", "2014-01-01T00:01:00"), a.jsoc.Series("hmi.M_45s"), a.jsoc.Notify(email)
        )
        assert len(result[0]) == 2
        files = Fido.fetch(result, path=str(tmp_path / "{file}"), sleep=0)
        assert not files.errors
        assert len(files) == 2
        assert all(sunpy.map.Map(path).data.shape == (64, 64) for path in files)
        endpoints = set(emu.request_log.endpoints())
    assert drms.config._server_configs["jsoc"] is original
    assert {"checkAddress", "jsoc_info", "jsoc_fetch", "files"} <= endpoints
