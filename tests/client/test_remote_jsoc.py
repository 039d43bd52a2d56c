"""
The client against the real JSOC (``pytest --remote-data=any``, ``tox -e online``; skipped offline).

Searches need only the network. Fetches also need a JSOC-registered address in ``JSOC_EMAIL``
and make small exports (a few cutouts each).

The row counts asserted here are facts about the real archive, not about the client:

* ``aia.lev1_euv_12s[2010.07.30_13:30:34_TAI-2010.07.30_14:00:34_TAI][193]`` (and ``[335]``)
  holds 151 records, every 12 s slot of the 30 minutes. These are the ``rs_list`` and
  ``exp_request`` replies recorded in sunpy/sunpy@b361c0cd
  ``sunpy/net/jsoc/tests/cassettes/test_post_wavelength.yaml`` (``"count": 151``,
  ``"rcount": 151``). With ``@60s`` DRMS keeps every fifth slot from the first one
  (``drms_names.c`` ``sql_primekey_value_set``), so 31 records.
* ``aia.lev1_euv_12s[2014.01.01_00:00:35_TAI-2014.01.01_00:02:35_TAI][304]`` holds 11 records
  (cassette ``test_search_metadata.yaml``).
* ``hmi.M_45s[2012.01.01_00:00:34_TAI-2012.01.01_00:01:19_TAI]`` holds 2 records, T_REC
  00:00:45 and 00:01:30 TAI (cassette ``test_build_table.yaml``). T_REC slots are 45 s wide and
  centred on the label, so 00:00-00:01:30 UTC on 2011-02-15 (TAI-UTC = 34 s) covers the
  labels 00:00:45, 00:01:30 and 00:02:15 TAI: 3 records.
* On ``aia.lev1`` with a cadence, im_patch keeps ``int((t_last - t_first + C/2) / C)`` slots
  per wavelength (``im_patch.c`` ``get_input_recset``). With 12 s data over 10 minutes at
  C = 120 s, that is 5 frames.
* NOAA AR 11158 was near S20, close to central meridian, on 2011 February 15 (the X2.2 flare
  region).

Where the client does not match these, the test fails on the real JSOC. That is the point of
these tests (see docs/dev_guide/jsoc_fidelity.rst).
"""

import os
from pathlib import Path

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits

import sunpy.map
import sunpy.net.attrs as a
from sunpy.coordinates import frames
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._plan.jsoc_text import parse_drms_time
from sunpy_jsoc_cutout.config import ENV_URL, base_url, conf

pytestmark = pytest.mark.remote_data


@pytest.fixture(autouse=True)
def _real_jsoc(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV_URL, raising=False)
    with conf.set_temp("ledger", str(tmp_path / "ledger.sqlite")):
        assert base_url() == "http://jsoc.stanford.edu/"
        yield


@pytest.fixture
def email():
    address = os.environ.get("JSOC_EMAIL")
    if not address:
        pytest.skip("set JSOC_EMAIL to a JSOC-registered address to run a real export")
    return address


def _table(result):
    return result["jsoccutout"]


def _per_wavelength(table) -> dict[int, int]:
    waves = np.rint(np.asarray(table["Wavelength"].to_value(u.AA))).astype(int)
    return {int(w): int((waves == w).sum()) for w in np.unique(waves)}


def _planned(table) -> int:
    return int((np.asarray(table["Skip"]) == "").sum())


def _fits_files(files) -> list[Path]:
    paths = sorted(Path(f) for f in files)
    assert paths, "no files were downloaded"
    assert all(p.suffix == ".fits" for p in paths), paths
    return paths


def _fetch_all(result, tmp_path, path="{file}") -> list[Path]:
    """Fetch ``result`` and return its FITS files: no error entries, every planned file arrived."""
    files = Fido.fetch(result, path=tmp_path / path)
    assert not files.errors
    paths = _fits_files(files)
    assert len(paths) == _planned(_table(result)) > 0
    return paths


def _header(path: Path) -> fits.Header:
    with fits.open(path) as hdul:
        hdu = next(h for h in hdul if h.data is not None)
        return hdu.header.copy()


# ---------------------------------------------------------------------------------------------
# Searches (metadata only)
# ---------------------------------------------------------------------------------------------


def test_aia_search_has_one_row_per_12s_record():
    query = (
        a.Time("2010-07-30 13:30", "2010-07-30 14:00"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        jc.Wavelengths(193 * u.AA, 335 * u.AA),
        jc.Box([0, 0] * u.arcsec, 200 * u.arcsec),
    )
    table = _table(Fido.search(*query))
    assert _per_wavelength(table) == {193: 151, 335: 151}
    assert set(np.asarray(table["Series"])) == {"aia.lev1_euv_12s"}

    sampled = _table(Fido.search(*query, a.Sample(60 * u.s)))
    assert _per_wavelength(sampled) == {193: 31, 335: 31}


def test_aia_search_of_a_recorded_2014_range():
    table = _table(
        Fido.search(
            a.Time("2014-01-01 00:00", "2014-01-01 00:02"),
            a.jsoc.Series("aia.lev1_euv_12s"),
            a.Wavelength(304 * u.AA),
            jc.Box([-300, 200] * u.arcsec, 100 * u.arcsec),
        )
    )
    assert _per_wavelength(table) == {304: 11}


@pytest.mark.parametrize(
    "box",
    [
        jc.Box([0, 0] * u.arcsec, 100 * u.arcsec),
        # HMI series have no HGLN_OBS/HGLT_OBS: SDO's position must come from CRLN/CRLT/DSUN_OBS
        jc.Box(
            SkyCoord(10 * u.deg, 5 * u.deg, frame=frames.HeliographicStonyhurst, obstime="2012-01-01T00:00:30"),
            5 * u.deg,
        ),
    ],
    ids=["arcsec", "stonyhurst"],
)
def test_hmi_search_has_one_row_per_45s_slot(box):
    table = _table(Fido.search(a.Time("2012-01-01 00:00:00", "2012-01-01 00:00:45"), a.jsoc.Series("hmi.M_45s"), box))
    assert len(table) == 2
    labels = sorted(t.tai.strftime("%H:%M:%S") for t in table["T_REC"])
    assert labels == ["00:00:45", "00:01:30"]


def test_lev1_cadence_search_keeps_one_frame_per_slot_and_wavelength():
    table = _table(
        Fido.search(
            a.Time("2010-07-30 13:30", "2010-07-30 13:40"),
            a.jsoc.Series("aia.lev1"),
            jc.Wavelengths(171 * u.AA, 193 * u.AA),
            jc.Box([0, 0] * u.arcsec, 100 * u.arcsec),
            a.Sample(120 * u.s),
        )
    )
    kept = table[np.asarray(table["Skip"]) == ""]
    assert _per_wavelength(kept) == {171: 5, 193: 5}


# ---------------------------------------------------------------------------------------------
# Fetches (small real exports; need JSOC_EMAIL)
# ---------------------------------------------------------------------------------------------


def test_small_tracked_aia_cutout(tmp_path, email):
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:00:36"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec),
        jc.Tracking(True),
        a.jsoc.Notify(email),
    )
    paths = _fetch_all(result, tmp_path)
    for path in paths:
        cutout = sunpy.map.Map(path)
        side = int(1 + 100 / cutout.scale.axis1.to_value(u.arcsec / u.pix))
        assert abs(cutout.data.shape[1] - side) <= 1
        assert int(cutout.meta["wavelnth"]) == 171


def test_hmi_cutout_of_a_noaa_region(tmp_path, email):
    result = Fido.search(
        a.Time("2011-02-15 00:00", "2011-02-15 00:01:30"),
        a.jsoc.Series("hmi.M_45s"),
        jc.ActiveRegion(11158, 200 * u.arcsec),
        a.jsoc.Notify(email),
    )
    table = _table(result)
    assert len(table) == 3
    paths = _fetch_all(result, tmp_path)
    for path in paths:
        centre = sunpy.map.Map(path).center.transform_to(frames.HeliographicStonyhurst)
        assert -24 < centre.lat.to_value(u.deg) < -16
        assert abs(centre.lon.to_value(u.deg)) < 30


def test_multi_wavelength_lev1_job_gives_each_wavelength_its_own_files(tmp_path, email):
    result = Fido.search(
        a.Time("2010-07-30 13:30", "2010-07-30 13:40"),
        a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA),
        jc.Box([0, 0] * u.arcsec, 100 * u.arcsec),
        a.Sample(120 * u.s),
        a.jsoc.Notify(email),
    )
    table = _table(result)
    kept = table[np.asarray(table["Skip"]) == ""]
    expected = {
        (int(np.rint(w)), int(np.rint(t.utc.unix)))
        for w, t in zip(kept["Wavelength"].to_value(u.AA), kept["T_REC"], strict=True)
    }
    assert len(expected) == len(kept) == 10

    paths = _fetch_all(result, tmp_path)
    got = set()
    for path in paths:
        header = _header(path)
        got.add((int(header["WAVELNTH"]), int(np.rint(parse_drms_time(header["T_REC"]).utc.unix))))
    assert len(got) == len(paths) == len(expected)
    assert got == expected


def test_url_tar_fetch_unpacks_the_planned_files(tmp_path, email):
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:00:36"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(193 * u.AA),
        jc.Box([-517.2, -246] * u.arcsec, 60 * u.arcsec),
        jc.Method("url-tar"),
        a.jsoc.Notify(email),
    )
    paths = _fetch_all(result, tmp_path)
    assert not list(tmp_path.rglob("*.tar"))
    assert all(int(_header(p)["WAVELNTH"]) == 193 for p in paths)


def test_level1p5_cutout_is_at_0p6_arcsec_per_pixel(tmp_path, email):
    result = Fido.search(
        a.Time("2014-02-05 08:00", "2014-02-05 08:00:24"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        jc.Box([-517.2, -246] * u.arcsec, 60 * u.arcsec),
        jc.Level1p5(),
        a.jsoc.Notify(email),
    )
    paths = _fetch_all(result, tmp_path)
    for path in paths:
        header = _header(path)
        assert abs(float(header["CDELT1"]) - 0.6) < 1e-3
        assert abs(float(header.get("CROTA2", 0.0))) < 1e-3
        assert abs(header["NAXIS1"] - int(1 + 60 / 0.6)) <= 1
