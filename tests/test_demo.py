"""
The offline demo, ``python -m sunpy_jsoc_cutout.demo``, run end to end against the emulator:
the guide's request (shortened) through Fido, its FITS files, the montage and the animation.
"""

import contextlib
import io
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import astropy.units as u
from astropy.io import fits

import sunpy.map
from sunpy.map.sources import AIAMap
from sunpy.net import Fido

from sunpy_jsoc_cutout import demo
from sunpy_jsoc_cutout.config import use_jsoc
from sunpy_jsoc_cutout.demo import figures, request
from sunpy_jsoc_cutout.exceptions import JSOCCutoutError
from sunpy_jsoc_cutout.testing import JSOCEmulator

IMAGE_SIZE = 256
FRAMES = 60  # one hour at one frame a minute
REQUEST_LINE = re.compile(r"^  (?P<wavelength>\d+) A: (?P<id>JSOC_\d{8}_\d{3,}), 60 FITS cutouts .* in (?P<dir>\S+)$")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """Run the command once (it starts and stops its own emulator) and keep its output."""
    out = tmp_path_factory.mktemp("demo")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        status = demo.main(["--out", str(out), "--image-size", str(IMAGE_SIZE)])
    return status, stdout.getvalue(), out


@pytest.fixture(scope="module")
def searched_rows():
    """(wavelength, T_REC) of every row of the demo's search, asked of an emulator of our own."""
    with JSOCEmulator(image_size=IMAGE_SIZE, registered=[demo.DEMO_EMAIL]) as emulator, use_jsoc(emulator.url):
        table = Fido.search(*request.demo_query())["jsoccutout"]
    return sorted((int(w), t[:19]) for w, t in zip(table["Wavelength"].value, table["T_REC"].isot, strict=True))


def test_demo_prints_the_plan_the_requests_and_where_the_files_are(demo_run):
    status, output, out = demo_run
    assert status == 0
    assert "Export plan: 4 JSOC request(s), 240 files" in output
    lines = [m for m in map(REQUEST_LINE.match, output.splitlines()) if m]
    assert [int(m["wavelength"]) for m in lines] == [171, 193, 211, 304]
    assert len({m["id"] for m in lines}) == 4
    for m in lines:
        assert m["dir"] == str(out.resolve() / m["wavelength"])
    assert f"Montage (wavelengths x times): {out.resolve() / 'montage.png'}" in output
    assert f"Animation (60 frames): {out.resolve() / 'cutouts.gif'}" in output
    assert output.rstrip().endswith(f"Files are in {out.resolve()}")


def test_every_fits_file_is_the_frame_of_its_search_row(demo_run, searched_rows):
    _, _, out = demo_run
    found = []
    for wavelength in request.WAVELENGTHS:
        files = sorted((out / str(wavelength)).glob("*.fits"))
        assert len(files) == FRAMES
        for path in files:
            assert re.match(rf"aia\.lev1\.2014-02-05T08\d{{4}}Z\.{wavelength}\.noproj\.fits$", path.name)
            header = fits.getheader(path, ext=-1)
            assert int(header["WAVELNTH"]) == wavelength
            # the file name's time is the header's T_REC ({T_REC:A}: the time without colons)
            assert header["T_REC"][:19].replace(":", "") == path.name.split(".")[2].removesuffix("Z")
            found.append((wavelength, header["T_REC"][:19]))
    assert sorted(found) == searched_rows
    assert not list(out.rglob("*.tar"))


def test_the_cutouts_are_aia_maps_tracked_on_the_active_region(demo_run):
    _, _, out = demo_run
    for wavelength in request.WAVELENGTHS:
        maps = [sunpy.map.Map(path) for path in sorted((out / str(wavelength)).glob("*.fits"))[::20]]
        for smap in maps:
            assert isinstance(smap, AIAMap)
            assert smap.wavelength.to_value(u.AA) == wavelength
            centre = smap.center.transform_to("heliographic_carrington")
            # the box follows NOAA 11967's Carrington point, so it moves across the CCD...
            assert centre.lon.to_value(u.deg) == pytest.approx(117, abs=0.5)
            assert centre.lat.to_value(u.deg) == pytest.approx(-12, abs=0.5)
        # ...and is 300" wide whatever the image size
        width = maps[0].dimensions.x * maps[0].scale.axis1
        assert width.to_value(u.arcsec) == pytest.approx(300, rel=0.1)
        assert maps[0].center.Tx != maps[-1].center.Tx


def test_montage_is_a_png_of_wavelengths_by_times(demo_run):
    _, _, out = demo_run
    with Image.open(out / "montage.png") as png:
        assert png.format == "PNG"
        width, height = png.size
        pixels = np.asarray(png.convert("RGB"))
    # six columns of times, four rows of wavelengths
    assert width / height == pytest.approx((1.6 * 6 + 0.6) / (1.6 * 4 + 0.7), rel=0.02)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 256  # pictures, not an empty figure


def test_animation_is_a_looping_gif_with_one_frame_a_minute(demo_run):
    _, _, out = demo_run
    with Image.open(out / "cutouts.gif") as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == FRAMES
        assert gif.info["loop"] == 0
        assert gif.info["duration"] == 1000 // figures.FPS
        gif.seek(0)
        first = np.asarray(gif.convert("RGB"))
        gif.seek(FRAMES - 1)
        last = np.asarray(gif.convert("RGB"))
    assert first.shape == last.shape
    assert not np.array_equal(first, last)  # the time label (and the Sun) changed


def test_animation_panels_show_each_wavelength_in_its_colours(demo_run):
    """Panel k of a GIF frame is the k-th wavelength's cutout of that time, in sunpy's colour map for it."""
    _, _, out = demo_run
    files = {w: sorted((out / str(w)).glob("*.fits")) for w in request.WAVELENGTHS}
    times = {w: [fits.getheader(p, ext=-1)["T_REC"][:19] for p in v] for w, v in files.items()}
    series = figures.load_series(files, times)
    frame = np.asarray(next(figures.animation_frames(series)))
    panel = figures.PANEL
    for k, one in enumerate(series):
        centre = frame[figures.TOP + panel // 2, figures.GAP + k * (panel + figures.GAP) + panel // 2].astype(int)
        data = one.data[0]
        value = data[data.shape[0] // 2, data.shape[1] // 2]
        expected = np.asarray(one.cmap(one.norm([value]), bytes=True)).reshape(-1, 4)[0, :3].astype(int)
        assert np.abs(centre - expected).max() < 40, one.wavelength


def test_mp4_has_every_frame(demo_run, tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    _, _, out = demo_run
    files = {w: sorted((out / str(w)).glob("*.fits")) for w in request.WAVELENGTHS}
    times = {w: [fits.getheader(p, ext=-1)["T_REC"][:19] for p in v] for w, v in files.items()}
    movie = figures.write_animation(figures.load_series(files, times), tmp_path / "cutouts.mp4")
    frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(movie))
    assert frames == FRAMES
    assert seconds == pytest.approx(FRAMES / figures.FPS, abs=0.2)


def test_mp4_without_imageio_ffmpeg_fails_before_anything_starts(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if it were not installed
    with pytest.raises(JSOCCutoutError, match="imageio-ffmpeg"):
        demo.run_demo(tmp_path / "out", image_size=IMAGE_SIZE, mp4=True)
    assert not (tmp_path / "out").exists()


def test_a_second_run_replaces_only_the_demo_s_own_files(tmp_path):
    old = tmp_path / "171" / "aia.lev1.2014-02-05T080000Z.171.noproj.fits"
    old.parent.mkdir()
    old.write_bytes(b"from an earlier run")
    mine = tmp_path / "171" / "notes.txt"
    mine.write_text("keep me")
    request._remove_previous(tmp_path)
    assert not old.exists()
    assert mine.read_text() == "keep me"


def test_demo_is_runnable_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "sunpy_jsoc_cutout.demo", "--help"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("usage: python -m sunpy_jsoc_cutout.demo")
    for option in ("--out", "--image-size", "--time-model", "--mp4"):
        assert option in result.stdout
