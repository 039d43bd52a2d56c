"""Image export protocols jpg, mpg and mp4 through drms, and render_image's scaling rules."""

import json
import urllib.parse
import urllib.request

import drms
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.processing.image_protocols import (
    MOVIE_RECORD,
    ImageProtocolError,
    colour_table,
    image_file_name,
    parse_image_protocol,
    scale_to_index,
)
from sunpy_jsoc_cutout.testing.sun.fitsfiles import reduce_header
from sunpy_jsoc_cutout.testing.sun.render import render

HMI = "hmi.M_720s[2014.01.01_00:00:00_TAI/36m]{magnetogram}"  # 3 records
AIA = "aia.lev1_euv_12s[2014-01-01T00:00:01Z/36s][193]{image}"  # 3 records

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")


@pytest.fixture
def client(emulator, email):
    return drms.Client(server=emulator.server_config, email=email)


def _download(request, path):
    assert request.wait(sleep=0)
    path.mkdir(parents=True, exist_ok=True)
    return request.download(path)


def test_jpg_one_picture_per_record_named_as_render_image(client, emulator, tmp_path):
    request = client.export(
        HMI, method="url", protocol="jpg", protocol_args={"ct": "grey.sao", "scaling": "MINMAX", "size": 2}
    )
    downloaded = _download(request, tmp_path)
    names = list(request.data.filename)
    # <T_REC as yyyymmdd_hhmmss (TAI)>_<series, lower case>_<width>.jpg
    assert names == [
        "20140101_000000_hmi.m_720s_128.jpg",
        "20140101_001200_hmi.m_720s_128.jpg",
        "20140101_002400_hmi.m_720s_128.jpg",
    ]
    assert list(request.data.record) == [f"hmi.M_720s[2014.01.01_00:{m}:00_TAI][3]" for m in ("00", "12", "24")]
    for path in downloaded.download:
        with Image.open(path) as picture:
            assert picture.format == "JPEG"
            assert picture.size == (emulator.image_size // 2,) * 2
            rgb = np.asarray(picture.convert("RGB"), dtype=float)
        # Off-disk pixels are missing (black); the disk is grey.
        assert rgb[0, 0].max() < 20
        assert rgb[rgb.shape[0] // 2, rgb.shape[1] // 2].min() > 60
    # North up: HMI (CROTA2 near 180) is turned by 180 deg, and the picture's top row is north,
    # so picture[i, j] shows stored pixel [i, n-1-j] (binned by 2 here).
    header = reduce_header(Catalogue().query(HMI[: HMI.index("/")] + "]").header(0), emulator.image_size)
    stored = ndimage.gaussian_filter(np.nan_to_num(render(header, "magnetogram")), 2)
    row, col = np.unravel_index(np.argmax(stored), stored.shape)
    with Image.open(downloaded.download[0]) as picture:
        grey = ndimage.gaussian_filter(np.asarray(picture.convert("L"), dtype=float), 1)
    prow, pcol = np.unravel_index(np.argmax(grey), grey.shape)
    assert abs(prow - row / 2) <= 2
    assert abs(pcol - (emulator.image_size - 1 - col) / 2) <= 2


def test_aia_jpg_times_are_tai_and_the_colour_table_applies(client, emulator, tmp_path):
    request = client.export(AIA, method="url", protocol="jpg", protocol_args={"ct": "aia_193.lut", "scaling": "LOG"})
    downloaded = _download(request, tmp_path)
    # T_REC 2014-01-01T00:00:01Z is 00:00:36 TAI.
    assert request.data.filename[0] == "20140101_000036_aia.lev1_euv_12s_256.jpg"
    with Image.open(downloaded.download[0]) as picture:
        rgb = np.asarray(picture.convert("RGB"), dtype=float)
    assert rgb.shape == (emulator.image_size, emulator.image_size, 3)
    assert rgb[..., 0].mean() > rgb[..., 2].mean()  # the aia_193 table is coloured, not grey


@pytest.mark.parametrize("protocol", ["mp4", "mpg"])
def test_movie_one_file_per_request_with_a_frame_per_record(client, emulator, tmp_path, protocol):
    request = client.export(HMI, method="url", protocol=protocol, protocol_args={"ct": "HMI_mag.lut", "scaling": "mag"})
    downloaded = _download(request, tmp_path)
    assert request.data.record[0] == MOVIE_RECORD
    assert request.data.filename[0] == "M_720s.mp4"
    assert len(request.data) == 1 + 3  # the movie, then its frames
    movie = next(str(p) for p in downloaded.download if str(p).endswith(".mp4"))
    reader = imageio_ffmpeg.read_frames(movie)
    meta = reader.__next__()
    frames = list(reader)
    assert meta["size"] == (emulator.image_size, emulator.image_size)
    assert len(frames) == 3


@pytest.mark.parametrize(
    ("protocol", "message"),
    [
        ("png", "Illegal protocol png"),
        ("jpg,CT=rainbow.sao,scaling=MINMAX,size=1", "Do not know how to proceed"),
        ("jpg,CT=grey.sao,scaling=MINMAXGIVEN,size=1", "min and max must be specified"),
    ],
)
def test_bad_image_requests_fail_with_status_4(emulator, email, protocol, message):
    # drms refuses these itself, so the request goes to jsoc_fetch by hand; drms then polls it.
    query = urllib.parse.urlencode(
        {"op": "exp_request", "ds": HMI, "notify": email, "method": "url", "protocol": protocol, "format": "json"}
    )
    with urllib.request.urlopen(f"{emulator.server_config.url_jsoc_fetch}?{query}") as reply:
        requestid = json.load(reply)["requestid"]
    request = drms.Client(server=emulator.server_config, email=email).export_from_id(requestid)
    with pytest.raises(drms.DrmsExportError, match=message):
        request.wait(sleep=0)
    assert request.status == 4


def test_parse_image_protocol_as_drms_sends_it():
    options = parse_image_protocol("jpg,CT=grey.sao,scaling=MINMAXGIVEN,size=4,min=-100,max=100")
    assert (options.kind, options.ct, options.scaling, options.size) == ("jpg", "grey.sao", "MINMAXGIVEN", 4)
    assert (options.vmin, options.vmax) == (-100.0, 100.0)
    assert parse_image_protocol("mp4").movie
    with pytest.raises(ImageProtocolError, match="Illegal protocol png"):
        parse_image_protocol("png,CT=grey.sao")
    with pytest.raises(ImageProtocolError, match="size"):
        parse_image_protocol("jpg,size=0")


def test_scaling_rules_of_set_scaling():
    data = np.array([[np.nan, 0.0, 50.0, 100.0, 200.0]])
    np.testing.assert_array_equal(scale_to_index(data, "MINMAX"), [[0, 1, 64, 128, 254]])
    np.testing.assert_array_equal(scale_to_index(data, "MINMAXGIVEN", 0.0, 100.0), [[0, 1, 128, 254, 254]])
    log = scale_to_index(np.array([[1.0, 10.0, 100.0]]), "LOG")
    np.testing.assert_array_equal(log, [[1, 128, 254]])
    mag = scale_to_index(np.array([[-3000.0, 0.0, 3000.0]]), "mag")
    assert mag[0, 1] == 128  # zero field is the middle of the table
    with pytest.raises(ImageProtocolError, match="min and max must be specified"):
        scale_to_index(data, "MINMAXGIVEN")


def test_colour_tables_and_file_names():
    grey = colour_table("grey.sao")
    assert grey.shape == (256, 3)
    assert tuple(grey[0]) == (0, 0, 0)
    assert (grey[:, 0] == grey[:, 2]).all()
    assert not (colour_table("heat.sao")[:, 0] == colour_table("heat.sao")[:, 2]).all()
    with pytest.raises(ImageProtocolError, match="Do not know how to proceed"):
        colour_table("rainbow.sao")
    assert image_file_name({"T_REC": "2014.01.01_00:12:00_TAI"}, "hmi.M_720s", 4096) == (
        "20140101_001200_hmi.m_720s_4k.jpg"
    )
    assert image_file_name({"T_REC": "2014.01.01_00:12:00_TAI"}, "hmi.M_720s_mod", 300).endswith("_mod_300.jpg")
