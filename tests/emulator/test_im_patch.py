"""
The emulator's ``im_patch`` through real exports: drms's cut-out example, box sizes, argument
errors, crop, boxes partly or wholly off the image, and the aia.lev1 cadence selection.
"""

import drms
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from astropy.io import fits

from sunpy_jsoc_cutout.testing.processing.frame_select import select_lev1_slots

EMAIL = "user@example.com"
DRMS_EXAMPLE = "aia.lev1_euv_12s[2025-01-01T04:33:30.000/1m@12s][171]{image}"
EXAMPLE_ARGS = {
    "t_ref": "2025-01-01T04:33:30.000",
    "t": 0,
    "r": 0,
    "c": 0,
    "locunits": "arcsec",
    "boxunits": "arcsec",
    "x": -517.2,
    "y": -246,
    "width": 345.6,
    "height": 345.6,
}


def export(emu, spec, args, out_dir):
    """Run an im_patch export with drms; return ``(records, [(header, data), ...])``."""
    client = drms.Client(server=emu.server_config, email=EMAIL)
    request = client.export(spec, method="url", protocol="fits", process={"im_patch": args})
    request.wait(sleep=0)
    if not any(request.data.filename):  # only JSOC's "No FITS files were exported" row
        return request, []
    out_dir.mkdir(parents=True, exist_ok=True)
    files = request.download(out_dir)
    cutouts = []
    for path in files.download:
        with fits.open(path) as hdul:
            cutouts.append((hdul[0].header.copy(), hdul[0].data.copy()))
    return request, cutouts


def test_drms_example_gives_577_square_float32_mod_records(emu4096, tmp_path):
    request, cutouts = export(emu4096, DRMS_EXAMPLE, EXAMPLE_ARGS, tmp_path)
    assert len(cutouts) == 5
    assert all(rec.startswith("aia.lev1_euv_12s_mod[2025-01-01T04:3") for rec in request.data.record)
    assert all(name.endswith("image.fits") for name in request.data.filename)
    for header, data in cutouts:
        assert data.shape == (577, 577)
        assert data.dtype == np.dtype(">f4")
        assert header["BITPIX"] == -32
        assert "ZIMAGE" not in header  # uncompressed
        assert header["CONTENT"] == "Tracked Extracted Patches, made by im_patch"
        assert header["CRDELT1"] == header["CDELT1"]
        # aia.lev1_euv_12s has neither CALVER64 nor CALVER32: update_CALVERxx writes nothing
        assert "CALVER64" not in header
        assert "CALVER32" not in header
        assert np.isfinite(data).all()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    width=st.floats(min_value=6.0, max_value=60.0),
    height=st.floats(min_value=6.0, max_value=60.0),
    wave=st.sampled_from([171, 193]),
    pixels=st.booleans(),
)
def test_box_size_follows_the_records_own_cdelt(emu4096, tmp_path_factory, width, height, wave, pixels):
    spec = f"aia.lev1_euv_12s[2014-02-05T08:00:00Z/24s][{wave}]{{image}}"
    args = dict(EXAMPLE_ARGS, t_ref="2014-02-05T08:00:00", x=120.0, y=-80.0, width=width, height=height)
    if pixels:
        args["boxunits"] = "pixels"
    client = drms.Client(server=emu4096.server_config, email=EMAIL)
    keys = client.query(spec, key="CDELT1")
    _, cutouts = export(emu4096, spec, args, tmp_path_factory.mktemp("box"))
    assert len(cutouts) == len(keys) == 2
    for (header, data), cdelt in zip(cutouts, keys.CDELT1, strict=True):
        if pixels:
            expected = (int(np.floor(height + 0.5)), int(np.floor(width + 0.5)))
        else:
            expected = (int(1 + height / cdelt), int(1 + width / cdelt))
        assert data.shape == expected
        assert header["CDELT1"] == cdelt


def test_171_and_193_have_different_cdelt_so_boxes_differ(emu4096, tmp_path):
    width = 345.6
    shapes = {}
    for wave in (171, 193):
        spec = f"aia.lev1_euv_12s[2014-02-05T08:00:00Z/12s][{wave}]{{image}}"
        _, ((header, data),) = export(
            emu4096, spec, dict(EXAMPLE_ARGS, t_ref="2014-02-05T08:00:00", x=0, y=0), tmp_path / str(wave)
        )
        shapes[wave] = (data.shape, header["CDELT1"])
    for shape, cdelt in shapes.values():
        assert shape == (int(1 + width / cdelt),) * 2
    assert shapes[171][1] != shapes[193][1]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"t_ref": "NotSpecified"}, "t_ref must be provided for locunits!=carrlong"),
        ({"locunits": "carrlong"}, "Carrington rotation number must be provided for locunits=carrlong"),
        ({"locunits": "furlongs"}, "Location units not detected, locunits furlongs"),
        ({"boxunits": "furlongs"}, "Location units not detected, locunits arcsec"),
        ({"t_ref": "2009-01-01T00:00:00"}, "No input data found within 2-hours of t_ref"),
    ],
)
def test_bad_arguments_fail_with_im_patch_messages(emulator, email, change, message):
    client = drms.Client(server=emulator.server_config, email=email)
    request = client.export(
        DRMS_EXAMPLE, method="url", protocol="fits", process={"im_patch": {**EXAMPLE_ARGS, **change}}
    )
    with pytest.raises(drms.DrmsExportError, match=message):
        request.wait(sleep=0)
    assert request.status == 4


def test_crop_sets_nan_exactly_where_jsoc_rule_says(emulator, tmp_path):
    # 256-pixel images: a 60 x 40 pixel box straddling the east limb.
    spec = "aia.lev1_euv_12s[2014-02-05T08:00:00Z/12s][171]{image}"
    args = dict(EXAMPLE_ARGS, t_ref="2014-02-05T08:00:00", x=-900.0, y=100.0, boxunits="pixels", width=60, height=40)
    _, ((header, data),) = export(emulator, spec, dict(args, c=1), tmp_path / "crop")
    _, ((_, uncropped),) = export(emulator, spec, args, tmp_path / "nocrop")
    rsun = np.degrees(np.arcsin(header["RSUN_REF"] / header["DSUN_OBS"])) * 3600.0 / header["CDELT1"]
    j, i = np.indices(data.shape)
    outside = (i - (header["CRPIX1"] - 1)) ** 2 + (j - (header["CRPIX2"] - 1)) ** 2 >= 0.9995 * rsun**2
    assert 0 < outside.sum() < outside.size
    np.testing.assert_array_equal(np.isnan(data), outside)
    assert np.isfinite(uncropped).all()  # AIA's corona is finite off the limb
    np.testing.assert_array_equal(data[~outside], uncropped[~outside])


def test_box_partly_off_the_image_is_nan_filled_and_wholly_off_is_skipped(emulator, tmp_path):
    spec = "aia.lev1_euv_12s[2014-02-05T08:00:00Z/24s][171]{image}"
    args = dict(EXAMPLE_ARGS, t_ref="2014-02-05T08:00:00", t=1, locunits="pixels", boxunits="pixels")
    _, cutouts = export(emulator, spec, dict(args, x=3, y=250, width=20, height=20), tmp_path / "part")
    assert len(cutouts) == 2
    for header, data in cutouts:
        assert data.shape == (20, 20)
        # centre (2, 249) 0-based: columns x1 = round(2 - 10) = -8 .. 11, rows 239 .. 258
        nan = np.isnan(data)
        assert nan[:, :8].all()
        assert nan[-3:, :].all()
        assert np.isfinite(data[:-3, 8:]).all()
        assert header["CRPIX1"] == pytest.approx(emulator_crpix(emulator, spec) + 8)
    request, cutouts = export(emulator, spec, dict(args, x=-100, y=-100, width=20, height=20), tmp_path / "off")
    assert cutouts == []
    assert request.status == 0
    assert list(request.data.record) == [
        "warning=No FITS files were exported. The requested FITS files no longer exist."
    ]


def emulator_crpix(emu, spec):
    """CRPIX1 of the stored (256-pixel) image, from the record keywords scaled like the store."""
    client = drms.Client(server=emu.server_config, email=EMAIL)
    keys = client.query(spec, key="CRPIX1")
    factor = 4096 / emu.image_size
    return (float(keys.CRPIX1.iloc[0]) - 0.5) / factor + 0.5


def nearest_good_per_slot(times, quality, cadence):
    """Independent statement of the rule: slots from the first record, nearest good within half a cadence."""
    nslots = int((times[-1] - times[0] + cadence / 2) // cadence)
    chosen = []
    for k in range(nslots):
        want = times[0] + k * cadence
        ok = np.flatnonzero((quality >= 0) & (np.abs(times - want) < cadence / 2))
        if ok.size:
            chosen.append(ok[np.argmin(np.abs(times[ok] - want))])
    return chosen


def test_lev1_slot_selection_picks_the_nearest_good_frame():
    rng = np.random.default_rng(3)
    times = np.sort(rng.uniform(0, 3600, 400))
    quality = np.where(rng.uniform(size=400) < 0.2, -(1 << 30), 0)
    selected = select_lev1_slots(times, quality, 60.0)
    assert selected.tolist() == nearest_good_per_slot(times, quality, 60.0)
    assert (quality[selected] >= 0).all()


def test_lev1_cadence_gives_480_frames_for_8_hours_at_60s(emulator, tmp_path):
    spec = "aia.lev1[2014.02.05_08:00/8h@60s][? WAVELNTH=171 ?]{image}"
    args = dict(
        EXAMPLE_ARGS, t_ref="2014-02-05T08:00:00", x=0, y=0, boxunits="pixels", width=4, height=4, cadence="60s"
    )
    client = drms.Client(server=emulator.server_config, email=EMAIL)
    keys = client.query(
        "aia.lev1[2014.02.05_08:00/8h][? WAVELNTH=171 ?]", key="T_REC,QUALITY,FSN", convert_numeric=False
    )
    times = (drms.to_datetime(keys.T_REC) - drms.to_datetime(keys.T_REC).iloc[0]).dt.total_seconds().to_numpy()
    quality = np.array([int(q, 16) for q in keys.QUALITY], dtype=np.int64).astype(np.int32)  # hex, signed 32 bit
    expected = keys.FSN.astype(int).to_numpy()[nearest_good_per_slot(times, quality, 60.0)]
    # as-is: the same files without record keywords (quicker to write 480 of them)
    request = client.export(spec, method="url", protocol="as-is", process={"im_patch": args})
    request.wait(sleep=0)
    records = list(request.data.record)
    assert len(records) == len(expected) == 480
    assert all(r.startswith("aia.lev1_mod[") for r in records)
    assert [int(r.rsplit("[", 1)[1].rstrip("]")) for r in records] == expected.tolist()


def test_lev1_cadence_keeps_one_frame_per_slot_across_wavelengths(emulator):
    # im_patch.c get_input_recset (L1848-1998) ignores WAVELNTH: a merged 171+193 query gives one
    # frame per slot in total.
    spec = "aia.lev1[2014.02.05_08:00/1h@60s][? WAVELNTH=171 OR WAVELNTH=193 ?]{image}"
    args = dict(
        EXAMPLE_ARGS, t_ref="2014-02-05T08:00:00", x=0, y=0, boxunits="pixels", width=4, height=4, cadence="60s"
    )
    client = drms.Client(server=emulator.server_config, email=EMAIL)
    both = client.query("aia.lev1[2014.02.05_08:00/1h][? WAVELNTH=171 OR WAVELNTH=193 ?]", key="WAVELNTH")
    assert sorted(set(both.WAVELNTH)) == [171, 193]
    assert len(both) == 600
    request = client.export(spec, method="url", protocol="fits", process={"im_patch": args})
    request.wait(sleep=0)
    assert len(request.data) == 60
