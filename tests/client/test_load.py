"""``sunpy_jsoc_cutout.load`` and ``to_ndcube`` on cutouts fetched from the emulator through Fido."""

import random
import shutil
import sys
from pathlib import Path

import numpy as np
import parfive
import pytest

import astropy.units as u
from astropy.io import fits

import sunpy.map
import sunpy.net.attrs as a
from sunpy.net import Fido
from sunpy.util import parfive_helpers
from sunpy.util.exceptions import SunpyUserWarning

import sunpy_jsoc_cutout
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.exceptions import LoadError
from sunpy_jsoc_cutout.loaders import GroupKey
from sunpy_jsoc_cutout.testing import JSOCEmulator

EMAIL = "user@example.com"
BOX = jc.Box([-517.2, -246] * u.arcsec, 345.6 * u.arcsec)
AIA = (a.Time("2014-02-05 08:00", "2014-02-05 08:00:30"), a.jsoc.Series("aia.lev1_euv_12s"))
HMI = (a.Time("2014-02-05 08:00", "2014-02-05 08:30"), a.jsoc.Series("hmi.M_720s"))


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    """
    One Fido fetch per instrument from one emulator: AIA 171 and 193 (3 frames each) and HMI
    magnetograms (the 720 s slots of half an hour), as (AIA results, HMI results, download folder, emulator).
    """
    root = tmp_path_factory.mktemp("load")
    with (
        pytest.MonkeyPatch.context() as patch,
        JSOCEmulator(time_model="fast", image_size=256, registered=(EMAIL,), root=root / "sums") as emulator,
        use_jsoc(emulator.url),
        conf.set_temp("ledger", str(root / "ledger.sqlite")),
        conf.set_temp("min_poll", 0.2),
    ):
        patch.setattr(parfive_helpers.config, "http_proxy", None)  # as tests/client/conftest.py's _no_proxy
        patch.setattr(parfive_helpers.config, "https_proxy", None)
        aia = Fido.search(*AIA, jc.Wavelengths(171 * u.AA, 193 * u.AA), BOX, a.jsoc.Notify(EMAIL))
        aia_files = Fido.fetch(aia, path=root / "files" / "{wavelength}" / "{file}")
        hmi = Fido.search(*HMI, BOX, a.jsoc.Notify(EMAIL))
        hmi_files = Fido.fetch(hmi, path=root / "files" / "hmi" / "{file}")
        assert not aia_files.errors
        assert not hmi_files.errors
        yield aia_files, hmi_files, root / "files", emulator


def _times(sequence):
    return [m.reference_date for m in sequence.maps]


def test_fetch_to_sequences_in_one_line(fetched):
    aia_files, _, _, _ = fetched
    assert len(aia_files) == 6
    sequences = sunpy_jsoc_cutout.load(aia_files)
    assert list(sequences) == [("aia.lev1_euv_12s", 171), ("aia.lev1_euv_12s", 193)]
    assert all(isinstance(key, GroupKey) for key in sequences)
    seq = sequences["aia.lev1_euv_12s", 171]
    assert isinstance(seq, sunpy.map.MapSequence)
    assert len(seq.maps) == 3
    assert {m.wavelength for m in seq.maps} == {171 * u.AA}
    assert all(isinstance(m, sunpy.map.sources.AIAMap) for m in seq.maps)
    assert seq.maps[0].data.shape == seq.maps[-1].data.shape


def _observed(path):
    """The series-independent identity of a file: (wavelength, observation time) from its header."""
    smap = sunpy.map.Map(str(path))
    return smap.wavelength.to_value(u.AA), smap.reference_date


def test_shuffled_files_come_back_in_time_order(fetched):
    aia_files, hmi_files, _, _ = fetched
    files = list(aia_files) + list(hmi_files)
    random.Random(13).shuffle(files)
    given = [_observed(f) for f in files]
    by_wavelength = {w: [t for w2, t in given if w2 == w] for w, _ in given}
    assert any(times != sorted(times) for times in by_wavelength.values()), "the shuffle left every group in order"
    sequences = sunpy_jsoc_cutout.load(files)
    for key, seq in sequences.items():
        times = _times(seq)
        assert times == sorted(by_wavelength[key.wavelength]), key
        assert len(set(times)) == len(times) >= 3


def test_aia_and_hmi_are_separate_groups(fetched):
    aia_files, hmi_files, _, _ = fetched
    sequences = sunpy_jsoc_cutout.load([*hmi_files, *aia_files])
    assert list(sequences) == [
        GroupKey("aia.lev1_euv_12s", 171.0),
        GroupKey("aia.lev1_euv_12s", 193.0),
        GroupKey("hmi.M_720s", 6173.0),
    ]
    hmi = sequences["hmi.M_720s", 6173]
    assert all(isinstance(m, sunpy.map.sources.HMIMap) for m in hmi.maps)
    assert len(hmi.maps) == len(hmi_files) >= 3


def test_a_folder_is_searched_with_its_subfolders(fetched):
    _, hmi_files, folder, _ = fetched
    sequences = sunpy_jsoc_cutout.load(folder)
    assert {key: len(seq.maps) for key, seq in sequences.items()} == {
        ("aia.lev1_euv_12s", 171): 3,
        ("aia.lev1_euv_12s", 193): 3,
        ("hmi.M_720s", 6173): len(hmi_files),
    }


def _without_source(path, target):
    with fits.open(path) as hdus:
        image = next(h for h in hdus if h.is_image and h.header.get("NAXIS") == 2)
        header = image.header.copy()
        del header["SOURCE"]
        fits.PrimaryHDU(image.data, header).writeto(target)
    return target


def test_the_series_comes_from_source_else_the_file_name_else_the_telescope(fetched, tmp_path):
    aia_files, hmi_files, _, _ = fetched
    assert fits.getheader(hmi_files[0])["SOURCE"].startswith("hmi.M_720s[")  # set by im_patch
    renamed = [shutil.copy(f, tmp_path / f"cutout_{i}.fits") for i, f in enumerate(hmi_files)]
    assert list(sunpy_jsoc_cutout.load(renamed)) == [("hmi.M_720s", 6173)]
    (tmp_path / "named").mkdir()
    (tmp_path / "bare").mkdir()
    named = [_without_source(f, tmp_path / "named" / Path(f).name) for f in aia_files]  # JSOC's file names
    assert list(sunpy_jsoc_cutout.load(named)) == [("aia.lev1_euv_12s", 171), ("aia.lev1_euv_12s", 193)]
    bare = [_without_source(f, tmp_path / "bare" / f"aia_{i}.fits") for i, f in enumerate(aia_files)]
    assert {key: len(seq.maps) for key, seq in sunpy_jsoc_cutout.load(bare).items()} == {
        ("SDO/AIA", 171): 3,
        ("SDO/AIA", 193): 3,
    }


# ---------------------------------------------------------------- NDCube


def test_ndcube_has_a_time_axis_and_the_first_frames_wcs(fetched):
    pytest.importorskip("ndcube")
    aia_files, _, _, _ = fetched
    sequences = sunpy_jsoc_cutout.load(aia_files)
    cubes = sunpy_jsoc_cutout.load(aia_files, as_ndcube=True)
    assert list(cubes) == list(sequences)
    seq, cube = sequences["aia.lev1_euv_12s", 193], cubes["aia.lev1_euv_12s", 193]
    first = seq.maps[0]
    assert cube.data.shape == (3, *first.data.shape)
    np.testing.assert_array_equal(cube.data[2], seq.maps[2].data)
    assert cube.unit == first.unit
    assert cube.array_axis_physical_types[0] == ("time",)
    (times,) = cube.axis_world_coords("time")
    assert list(times) == _times(seq)
    corner, when = cube.wcs.pixel_to_world(3, 5, 1)
    assert when == seq.maps[1].reference_date
    expected = first.pixel_to_world(3 * u.pix, 5 * u.pix)
    assert corner.Tx.to_value(u.arcsec) == pytest.approx(expected.Tx.to_value(u.arcsec))
    assert corner.Ty.to_value(u.arcsec) == pytest.approx(expected.Ty.to_value(u.arcsec))
    assert [h["t_obs"] for h in cube.meta["headers"]] == [m.meta["t_obs"] for m in seq.maps]
    assert sunpy_jsoc_cutout.to_ndcube(seq).data.shape == cube.data.shape


def test_without_ndcube_the_error_names_the_extra(fetched, monkeypatch):
    aia_files, _, _, _ = fetched
    monkeypatch.setitem(sys.modules, "ndcube", None)  # what "import ndcube" meets when it is not installed
    with pytest.raises(ImportError, match=r'pip install "sunpy-jsoc-cutout\[ndcube\]"'):
        sunpy_jsoc_cutout.load(aia_files, as_ndcube=True)
    sequence = sunpy_jsoc_cutout.load(aia_files)["aia.lev1_euv_12s", 171]
    with pytest.raises(ImportError, match=r"sunpy-jsoc-cutout\[ndcube\]"):
        sunpy_jsoc_cutout.to_ndcube(sequence)


# ---------------------------------------------------------------- errors


def test_no_files(tmp_path):
    with pytest.raises(LoadError, match="No files to load"):
        sunpy_jsoc_cutout.load([])
    (tmp_path / "index.json").write_text("{}")
    with pytest.raises(LoadError, match=r"holds no FITS file"):
        sunpy_jsoc_cutout.load(tmp_path)
    with pytest.raises(LoadError, match="does not exist"):
        sunpy_jsoc_cutout.load(tmp_path / "missing.fits")
    with pytest.raises(LoadError, match=r"takes what Fido\.fetch returns"):
        sunpy_jsoc_cutout.load(42)


def test_failed_downloads_are_skipped_with_a_warning(fetched):
    aia_files, _, _, _ = fetched
    with_errors = parfive.Results(list(aia_files))
    with_errors.add_error(str(aia_files[0]) + ".part", "http://127.0.0.1/x.fits", OSError("gone"))
    with pytest.warns(SunpyUserWarning, match=r"1 file\(s\) of this fetch failed to download"):
        assert len(sunpy_jsoc_cutout.load(with_errors)) == 2
    only_errors = parfive.Results()
    only_errors.add_error("x.fits.part", "http://127.0.0.1/x.fits", OSError("gone"))
    with (
        pytest.warns(SunpyUserWarning, match="failed to download"),
        pytest.raises(LoadError, match="Every download of this fetch failed"),
    ):
        sunpy_jsoc_cutout.load(only_errors)


def test_files_that_are_not_fits_maps(fetched, tmp_path):
    aia_files, _, _, _ = fetched
    text = tmp_path / "notes.txt"
    text.write_text("not a FITS file\n")
    with pytest.raises(LoadError, match=r"notes\.txt is not a FITS file"):
        sunpy_jsoc_cutout.load([*aia_files, text])
    table = tmp_path / "table.fits"
    fits.BinTableHDU.from_columns([fits.Column("a", "J", array=[1, 2])]).writeto(table)
    with pytest.raises(LoadError, match=r"table\.fits holds 0 images"):
        sunpy_jsoc_cutout.load([table])
    # an as-is export: the stored segment, its keywords only in <requestid>.keywords.txt
    bare = tmp_path / "aia.lev1_euv_12s.2014-02-05T080001Z.171.image.fits"
    fits.writeto(bare, fits.getdata(aia_files[0]))
    with pytest.raises(LoadError, match=r"without the keywords of a map .*'as-is' export.*protocol 'fits'"):
        sunpy_jsoc_cutout.load([bare])


def test_mixed_shapes_in_a_group_say_what_to_do(fetched, tmp_path):
    aia_files, _, _, _ = fetched
    smaller = tmp_path / "aia.lev1_euv_12s.smaller.fits"
    with fits.open(aia_files[0]) as hdus:
        image = next(h for h in hdus if h.is_image and h.header.get("NAXIS") == 2)
        fits.PrimaryHDU(image.data[:-2, :-2], image.header).writeto(smaller)
    with pytest.raises(LoadError, match=r"171 Å cutouts do not all have one shape: .*give the box size in pixels"):
        sunpy_jsoc_cutout.load([*aia_files, smaller])
