"""
The client against the real JSOC (``pytest --remote-data=any``; skipped offline).

The fetch test needs a JSOC-registered address in ``JSOC_EMAIL``.
"""

import os

import numpy as np
import pytest

import astropy.units as u

import sunpy.map
import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import ENV_URL, base_url, conf

pytestmark = pytest.mark.remote_data


@pytest.fixture(autouse=True)
def _real_jsoc(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_URL, raising=False)
    with conf.set_temp("ledger", str(tmp_path / "ledger.sqlite")):
        assert base_url() == "http://jsoc.stanford.edu/"
        yield


def test_guide_example_counts_on_the_real_jsoc():
    # the user's guide: 2401 records at 171 A and 2400 at each other wavelength, 480 each at 1 minute
    query = (
        a.Time("2014-02-05 08:00", "2014-02-05 16:00"),
        a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA, 211 * u.AA, 304 * u.AA),
        jc.Box.carrington(100 * u.deg, 10 * u.deg, 500 * u.pix, 500 * u.pix),
        jc.Tracking(True),
    )
    table = Fido.search(*query)["jsoccutout"]
    waves = np.asarray(table["Wavelength"].to_value(u.AA)).astype(int)
    assert {w: int((waves == w).sum()) for w in (171, 193, 211, 304)} == {171: 2401, 193: 2400, 211: 2400, 304: 2400}
    sampled = Fido.search(*query, a.Sample(60 * u.s))["jsoccutout"]
    waves = np.asarray(sampled["Wavelength"].to_value(u.AA)).astype(int)
    assert all(int((waves == w).sum()) == 480 for w in (171, 193, 211, 304))


def test_small_tracked_cutout_from_the_real_jsoc(tmp_path):
    email = os.environ.get("JSOC_EMAIL")
    if not email:
        pytest.skip("set JSOC_EMAIL to a JSOC-registered address to run a real export")
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:01"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec),
        a.jsoc.Notify(email),
    )
    files = Fido.fetch(result, path=tmp_path / "{file}")
    assert not files.errors
    assert len(files) == int((result["jsoccutout"]["Skip"] == "").sum())
    cutout = sunpy.map.Map(sorted(files)[0])
    side = int(1 + 100 / cutout.scale.axis1.to_value(u.arcsec / u.pix))
    assert abs(cutout.data.shape[1] - side) <= 1
