"""The user's guide campaign in full (1920 cutouts) through Fido.search and Fido.fetch (slow)."""

import re
from collections import Counter
from pathlib import Path

import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord

import sunpy.map
import sunpy.net.attrs as a
from sunpy.coordinates import HeliographicCarrington
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401  (registers the client)
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import conf, use_jsoc

EMAIL = "user@example.com"
GUIDE_FORMAT = "aia.lev1.{T_REC:A}.{WAVELNTH}.noproj.fits"
GUIDE_NAME = re.compile(r"^aia\.lev1\.2014-02-05T(\d\d)(\d\d)(\d\d)Z\.(171|193|211|304)\.noproj\.fits$")
CENTRE = (100 * u.deg, 10 * u.deg)
#: Full-disk side and box side: the guide's 500 px box on a 4096 px image, scaled to a 1024 px image.
IMAGE_SIZE = 1024
BOX = 125


@pytest.fixture
def campaign_jsoc(tmp_path):
    """A FAST emulator with 1024 px images, the client pointing at it, a ledger of the test's own."""
    from sunpy_jsoc_cutout.testing import JSOCEmulator  # noqa: PLC0415

    with (
        JSOCEmulator(time_model="fast", image_size=IMAGE_SIZE, registered=(EMAIL,), root=tmp_path / "sums") as emu,
        use_jsoc(emu.url),
        conf.set_temp("ledger", str(tmp_path / "ledger.sqlite")),
        conf.set_temp("min_poll", 0.2),
    ):
        yield emu


def guide_campaign():
    return (
        a.Time("2014-02-05 08:00", "2014-02-05 16:00"),
        a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA, 211 * u.AA, 304 * u.AA),
        jc.Box.carrington(*CENTRE, BOX * u.pix, BOX * u.pix),
        jc.Tracking(True),
        a.Sample(60 * u.s),
        jc.FilenameFormat(GUIDE_FORMAT),
        jc.Method("url-tar"),
        a.jsoc.Notify(EMAIL),
    )


def check_wcs(path: str) -> None:
    """The file opens as a float32 map whose WCS puts the tracked Carrington point at its centre."""
    cutout = sunpy.map.Map(path)
    assert cutout.data.shape == (BOX, BOX)
    assert cutout.data.dtype.kind == "f"
    assert cutout.data.dtype.itemsize == 4
    point = SkyCoord(*CENTRE, frame=HeliographicCarrington, observer=cutout.observer_coordinate, obstime=cutout.date)
    x, y = cutout.wcs.world_to_pixel(point)
    assert abs(x - (BOX - 1) / 2) < 1.5
    assert abs(y - (BOX - 1) / 2) < 1.5


@pytest.mark.slow
def test_guide_campaign_in_full(campaign_jsoc, tmp_path):
    result = Fido.search(*guide_campaign())
    assert len(result["jsoccutout"]) == 4 * 480
    out = tmp_path / "out"
    files = Fido.fetch(result, path=out / "{file}")
    assert not files.errors
    assert len(files) == 4 * 480
    on_disk = sorted(out.rglob("*"))
    assert {str(p) for p in on_disk if p.is_file()} == set(map(str, files))  # no tar or stray file left
    # every file named by the format: 480 distinct frames per wavelength, each in its one-minute slot
    names = [GUIDE_NAME.match(Path(p).name) for p in files]
    assert all(names), [Path(p).name for p, m in zip(files, names) if not m][:5]
    assert Counter(m.group(4) for m in names) == {"171": 480, "193": 480, "211": 480, "304": 480}
    for wave in ("171", "193", "211", "304"):
        seconds = sorted(3600 * int(m[1]) + 60 * int(m[2]) + int(m[3]) for m in names if m[4] == wave)
        slots = [round((s - 8 * 3600) / 60) for s in seconds]
        assert slots == list(range(480)), wave  # one frame per minute 08:00..15:59, none twice
        assert all(abs(s - (8 * 3600 + 60 * k)) <= 30 for k, s in enumerate(seconds))
    # all files are whole cutouts of the same size; a sample of every wavelength opens with the right WCS
    assert len({Path(p).stat().st_size for p in files}) == 1
    for path in sorted(map(str, files))[::40]:
        check_wcs(path)
    connections = campaign_jsoc.connections.snapshot()
    assert connections["max_connections"] == 1
    assert connections["max_downloads"] == 1
    exports = [e for e in campaign_jsoc.request_log if e["params"].get("op") == "exp_request"]
    assert [e.get("jsoc_status") for e in exports] == [2] * 8  # one request per wavelength half, none refused
