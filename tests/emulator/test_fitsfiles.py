"""FITS files as JSOC writes them: storage types, Rice compression, keywords, WCS in sunpy."""

import io
import warnings
from types import SimpleNamespace

import drms
import numpy as np
import pytest

import astropy.units as u
from astropy.io import fits

import sunpy.map
from sunpy.map.sources import AIAMap, HMIMap

from sunpy_jsoc_cutout.testing.sun.fitschecksum import encode_checksum, ones_complement_sum
from sunpy_jsoc_cutout.testing.sun.fitsfiles import (
    FitsWriteError,
    make_segment_file,
    reduce_header,
    segment_fits_bytes,
    write_segment_fits,
)
from sunpy_jsoc_cutout.testing.sun.render import render

AIA_IMAGE = SimpleNamespace(kind="aia", storage="int16", bscale=None, bzero=None, blank=-32768, cparms="compress Rice")
HMI_MAG = SimpleNamespace(
    kind="magnetogram", storage="int32", bscale=0.1, bzero=0.0, blank=-2147483648, cparms="compress Rice"
)
HMI_IC = SimpleNamespace(
    kind="continuum", storage="int32", bscale=0.1, bzero=0.0, blank=-2147483648, cparms="compress Rice"
)


def record_header(hmi=False):
    """A plausible full-disk SDO record header (observer values fixed, not computed)."""
    header = {
        "TELESCOP": "SDO/AIA",
        "INSTRUME": "AIA_3",
        "WAVELNTH": 171,
        "WAVEUNIT": "angstrom",
        "T_OBS": "2014-02-05T08:00:00.57Z",
        "DATE-OBS": "2014-02-05T08:00:00.57",
        "EXPTIME": 2.0,
        "CTYPE1": "HPLN-TAN",
        "CTYPE2": "HPLT-TAN",
        "CUNIT1": "arcsec",
        "CUNIT2": "arcsec",
        "NAXIS1": 4096,
        "NAXIS2": 4096,
        "CDELT1": 0.599489,
        "CDELT2": 0.599489,
        "CRPIX1": 2052.3,
        "CRPIX2": 2040.6,
        "CRVAL1": 0.0,
        "CRVAL2": 0.0,
        "CROTA2": 0.12,
        "DSUN_OBS": 1.4747e11,
        "RSUN_REF": 696000000.0,
        "RSUN_OBS": 973.4,
        "R_SUN": 1623.7,
        "HGLN_OBS": 0.008,
        "HGLT_OBS": -6.2,
        "CRLN_OBS": 113.4,
        "CRLT_OBS": -6.2,
        "CALVER64": 0,
        "QUALITY": 0,
        "FSN": 123456,
    }
    if hmi:
        header.update(
            TELESCOP="SDO/HMI",
            INSTRUME="HMI_SIDE1",
            WAVELNTH=6173.0,
            CONTENT="MAGNETOGRAM",
            CDELT1=0.504296,
            CDELT2=0.504296,
            CROTA2=179.93,
            T_OBS="2014.02.05_08:00:45.12_TAI",
            DATE_OBS="2014-02-05T07:59:58.40Z",
        )
    return header


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Full-size AIA and HMI files plus reduced ones, written once for the module."""
    root = tmp_path_factory.mktemp("segments")
    files = {}
    for name, segment, hmi in (("aia", AIA_IMAGE, False), ("hmi", HMI_MAG, True)):
        header = record_header(hmi)
        for size in (None, 512):
            path = root / f"{name}_{size}.fits"
            nbytes = make_segment_file(path, header, segment, size=size, active_regions=[])
            files[name, size] = (path, header, nbytes)
    return files


def test_reduce_header_preserves_pixel_to_world():
    header = record_header(hmi=True)
    small = reduce_header(header, 1024)
    assert small["NAXIS1"] == small["NAXIS2"] == 1024
    assert small["CDELT1"] == pytest.approx(header["CDELT1"] * 4)
    assert small["R_SUN"] == pytest.approx(header["R_SUN"] / 4)
    full_map = sunpy.map.Map(np.zeros((8, 8)), header)
    small_map = sunpy.map.Map(np.zeros((8, 8)), small)
    for x, y in [(0.0, 0.0), (511.3, 700.9), (1023.0, 12.0)]:
        world = small_map.pixel_to_world(x * u.pix, y * u.pix)
        back = full_map.world_to_pixel(world)
        assert back.x.value == pytest.approx((x + 0.5) * 4 - 0.5, abs=1e-6)
        assert back.y.value == pytest.approx((y + 0.5) * 4 - 0.5, abs=1e-6)


@pytest.mark.parametrize("name", ["aia", "hmi"])
@pytest.mark.parametrize("size", [None, 512])
def test_file_opens_as_sdo_map_with_header_wcs(written, name, size):
    path, header, nbytes = written[name, size]
    assert nbytes == path.stat().st_size
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        smap = sunpy.map.Map(path)
    assert isinstance(smap, AIAMap if name == "aia" else HMIMap)
    expected = reduce_header(header, size) if size else header
    assert smap.data.shape == (expected["NAXIS2"], expected["NAXIS1"])
    reference = sunpy.map.Map(np.zeros((4, 4)), expected)
    n = expected["NAXIS1"]
    for x, y in [(0.1 * n, 0.8 * n), (0.5 * n, 0.5 * n), (0.9 * n, 0.3 * n)]:
        pixel = smap.world_to_pixel(reference.pixel_to_world(x * u.pix, y * u.pix))
        assert abs(pixel.x.value - x) < 0.01
        assert abs(pixel.y.value - y) < 0.01
    assert smap.meta["t_obs"] == header["T_OBS"]


def test_stored_layout_is_rice_compressed_integers(written):
    path, _, _ = written["aia", None]
    with fits.open(path, disable_image_compression=True) as hdus:
        assert hdus[0].data is None
        assert hdus[1].header["ZCMPTYPE"] == "RICE_1"
        assert hdus[1].header["ZBITPIX"] == 16
    path, _, _ = written["hmi", None]
    with fits.open(path, disable_image_compression=True) as hdus:
        stored = hdus[1].header
        assert (stored["ZBITPIX"], stored["BSCALE"], stored["BZERO"]) == (32, 0.1, 0.0)
        assert stored["BLANK"] == -2147483648
    with fits.open(path, do_not_scale_image_data=True) as hdus:
        raw = hdus[1].data
        assert raw.dtype.kind == "i"
        assert raw.dtype.itemsize == 4
        assert (raw == -2147483648).sum() > 0.1 * raw.size  # off-disk pixels


def test_full_size_aia_data_match_render_and_is_compact(written):
    path, header, nbytes = written["aia", None]
    assert 2e6 < nbytes < 20e6  # Rice on 4096² int16, JSOC files are ~8-12 MB
    with fits.open(path) as hdus:
        data = hdus[1].data
    expected = render(header, "aia", active_regions=[])
    assert np.array_equal(data[1000:1100, 2000:2100], np.round(expected[1000:1100, 2000:2100]))


@pytest.mark.parametrize(("storage", "bscale", "dtype"), [("int16", None, np.int16), ("int32", 0.1, np.int32)])
def test_rice_integer_round_trip(tmp_path, storage, bscale, dtype):
    values = np.linspace(-1200.0, 3000.0, 64 * 48).reshape(48, 64)
    values[5, 7] = np.nan
    path = tmp_path / "rt.fits"
    write_segment_fits(path, {"WAVELNTH": 171}, values, storage=storage, bscale=bscale, bzero=0.0 if bscale else None)
    with fits.open(path) as hdus:
        back = hdus[1].data
        assert np.isnan(back[5, 7])
        step = bscale or 1.0
        expected = np.round(values / step) * step
        mask = np.isfinite(values)
        np.testing.assert_allclose(back[mask], expected[mask], atol=1e-6 * step)
    with fits.open(path, do_not_scale_image_data=True) as hdus:
        assert hdus[1].data.dtype.kind == "i"
        assert hdus[1].data.dtype.itemsize == np.dtype(dtype).itemsize
        assert hdus[1].header["BLANK"] == np.iinfo(dtype).min


def test_float_storage_is_uncompressed_and_refuses_rice(tmp_path):
    data = np.full((20, 30), 5.25)
    data[0, 0] = np.nan
    with pytest.raises(FitsWriteError, match="Rice-compressed floating-point"):
        write_segment_fits(tmp_path / "x.fits", {}, data, storage="float32", compress=True)
    nbytes = write_segment_fits(tmp_path / "f.fits", {"CONTENT": "patch"}, data, storage="float32", compress=False)
    with fits.open(tmp_path / "f.fits") as hdus:
        assert len(hdus) == 1
        assert hdus[0].header["BITPIX"] == -32
        assert np.isnan(hdus[0].data[0, 0])
        assert hdus[0].data[3, 3] == 5.25
        assert hdus[0].header["CONTENT"] == "patch"
    assert nbytes == (tmp_path / "f.fits").stat().st_size


def test_keywords_false_writes_structural_keywords_only(tmp_path):
    header = record_header(hmi=True)
    make_segment_file(tmp_path / "asis.fits", header, HMI_IC, size=128, keywords=False, active_regions=[])
    with fits.open(tmp_path / "asis.fits") as hdus:
        hdr = hdus[1].header
        assert "T_OBS" not in hdr
        assert "CRPIX1" not in hdr
        assert hdr["BSCALE"] == 0.1
        assert hdus[1].data.shape == (128, 128)


def test_awkward_keywords_are_written_or_skipped_quietly(tmp_path):
    header = {
        "HISTORY": ["one", "two"],
        "COMMENT": "a comment",
        "LONGSTR": "x" * 300,
        "TOOLONGKEYWORD": 1,
        "NANVAL": float("nan"),
        "NONEVAL": None,
        "NUMPY": np.float32(2.5),
        "FLAG": True,
        "UNICODE": "café",
        "NAXIS1": 99,
        "BITPIX": 8,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_segment_fits(tmp_path / "k.fits", header, np.zeros((4, 4)), storage="int16")
    with fits.open(tmp_path / "k.fits") as hdus:
        hdr = hdus[1].header
        assert hdr["LONGSTR"] == "x" * 300
        assert list(hdr["HISTORY"]) == ["one", "two"]
        assert hdr["NUMPY"] == 2.5
        assert hdr["FLAG"] is True
        for absent in ("TOOLONGK", "NANVAL", "NONEVAL", "UNICODE"):
            assert absent not in hdr
        assert hdus[1].data.shape == (4, 4)


def test_region_file_and_bytes(tmp_path):
    header = record_header()
    region = (slice(1500, 1600), slice(2100, 2180))
    blob = segment_fits_bytes(header, AIA_IMAGE, region=region, active_regions=[])
    nbytes = make_segment_file(tmp_path / "r.fits", header, AIA_IMAGE, region=region, active_regions=[])
    assert (tmp_path / "r.fits").read_bytes() == blob
    assert nbytes == len(blob)
    with fits.open(io.BytesIO(blob)) as hdus:
        hdr, data = hdus[1].header, hdus[1].data
    assert data.shape == (100, 80)
    assert hdr["CRPIX1"] == pytest.approx(header["CRPIX1"] - 2100)
    assert hdr["CRPIX2"] == pytest.approx(header["CRPIX2"] - 1500)
    assert np.array_equal(data, np.round(render(header, "aia", region=region, active_regions=[])))


def test_spikes_segment(tmp_path):
    spikes = SimpleNamespace(
        kind="spikes", storage="int32", bscale=None, bzero=None, blank=None, cparms="compress Rice"
    )
    make_segment_file(tmp_path / "spikes.fits", record_header(), spikes, size=1024)
    with fits.open(tmp_path / "spikes.fits") as hdus:
        data = hdus[1].data
    assert data.dtype.kind == "i"
    assert data.shape[0] == 3
    assert data[0].max() < 4096 * 4096


# ----------------------------------------------------------------------------- CHECKSUM / DATASUM
def _verified(path_or_bytes, hdu_index):
    """``(verify_checksum, verify_datasum, header)`` of one HDU of the raw file (no decompression)."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with warnings.catch_warnings(), fits.open(source, disable_image_compression=True) as hdus:
        warnings.simplefilter("ignore")  # a failed verification warns as well as returning 0
        hdu = hdus[hdu_index]
        return hdu.verify_checksum(), hdu.verify_datasum(), hdu.header.copy()


@pytest.mark.parametrize("name", ["aia", "hmi"])
def test_rice_files_carry_checksums_in_the_compressed_hdu_only(written, name):
    # DRMS's fitsrw_closefptr calls fits_write_chksum on the current HDU: the compressed image
    path, _, _ = written[name, 512]
    assert _verified(path, 0)[:2] == (2, 2)  # 2: no CHECKSUM card (the empty primary HDU)
    checksum_ok, datasum_ok, stored = _verified(path, 1)
    assert (checksum_ok, datasum_ok) == (1, 1)
    keys = list(stored.keys())
    assert keys.index("CHECKSUM") + 1 == keys.index("DATASUM")
    assert keys.index("CHECKSUM") < keys.index("T_OBS")  # after the structural cards, as JSOC's headers
    assert stored.comments["CHECKSUM"].startswith("HDU checksum updated")
    assert stored.comments["DATASUM"].startswith("data unit checksum updated")


def test_uncompressed_files_carry_checksums_with_the_record_date(tmp_path):
    header = {"CONTENT": "patch", "DATE": "2014-02-08T03:04:05.000"}
    write_segment_fits(tmp_path / "f.fits", header, np.full((20, 30), 5.25), storage="float32", compress=False)
    checksum_ok, datasum_ok, hdr = _verified(tmp_path / "f.fits", 0)
    assert (checksum_ok, datasum_ok) == (1, 1)
    assert hdr.comments["CHECKSUM"] == "HDU checksum updated 2014-02-08T03:04:05"
    assert hdr.comments["DATASUM"] == "data unit checksum updated 2014-02-08T03:04:05"
    with warnings.catch_warnings():  # astropy's own verification on open finds nothing wrong
        warnings.simplefilter("error")
        with fits.open(tmp_path / "f.fits", checksum=True) as hdus:
            assert hdus[0].data[0, 0] == 5.25


def test_same_length_corruption_fails_the_checksum(written):
    path, _, _ = written["aia", 512]
    blob = bytearray(path.read_bytes())
    with fits.open(path, disable_image_compression=True) as hdus:
        start = hdus[1].fileinfo()["datLoc"]
    blob[start + 100] ^= 0x01  # one bit of the compressed data
    checksum_ok, datasum_ok, _ = _verified(bytes(blob), 1)
    assert (checksum_ok, datasum_ok) == (0, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with fits.open(io.BytesIO(bytes(blob)), checksum=True):
            pass
    messages = " ".join(str(w.message) for w in caught)
    assert "Checksum verification failed" in messages
    assert "Datasum verification failed" in messages


def test_checksum_encoding_is_the_fits_convention():
    # the FITS Checksum Convention's example: an HDU summing to 868229149 gets "hcHjjc9ghcEghc9g"
    # (the encoded complement; astropy's _char_encode agrees)
    assert encode_checksum(868229149) == "hcHjjc9ghcEghc9g"
    assert ones_complement_sum(b"\xff\xff\xff\xff\x00\x00\x00\x02") == 2  # end-around carry
    # an HDU with its CHECKSUM sums to -0
    blob = segment_fits_bytes(record_header(), AIA_IMAGE, size=64, active_regions=[])
    assert ones_complement_sum(blob[2880:]) == 0xFFFFFFFF


def test_exported_and_stored_files_verify(emulator, email, tmp_path):
    client = drms.Client(server=emulator.server_config, email=email)
    spec = "hmi.M_45s[2014.02.05_08:00:00_TAI/90s]{magnetogram}"
    for method, protocol in (("url", "fits"), ("url_quick", "as-is")):
        request = client.export(spec, method=method, protocol=protocol)
        request.wait(sleep=0)
        (tmp_path / method).mkdir()
        paths = request.download(tmp_path / method).download
        assert len(paths) == 2
        for path in paths:
            assert _verified(path, 1)[:2] == (1, 1), (method, path)
