"""
The WCS of im_patch cut-outs: sunpy's world coordinate of a cut-out pixel equals that of the
same pixel of the full-disk image, for AIA, HMI (stored upside down, CROTA2 ~180), registered
cut-outs and boxes partly off the image (to 0.01 pixel; the requirement is 0.5).

"The same pixel" is found from the data (unregistered cut-outs are exact copies of stored
pixels, flipped for HMI) or, for registered cut-outs, from the tracked point computed here with
sunpy and the rotation by CROTA2 that registration removes.
"""

import math

import drms
import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits

import sunpy.map

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.sun.render import render

EMAIL = "user@example.com"
START = "2014-02-06T00:00:00"
AIA = "aia.lev1_euv_12s[2014-02-06T00:00:00Z/12s][171]{image}"
HMI = "hmi.M_45s[2014.02.06_00:00:00_TAI/45s]{magnetogram}"
ARCSEC_BOX = {"t": 0, "t_ref": START, "locunits": "arcsec", "boxunits": "arcsec", "width": 60, "height": 45}


def export_one(emu, spec, args, out_dir):
    client = drms.Client(server=emu.server_config, email=EMAIL)
    request = client.export(spec, method="url", protocol="fits", process={"im_patch": args})
    request.wait(sleep=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    (path,) = request.download(out_dir).download
    with fits.open(path) as hdul:
        return sunpy.map.Map(hdul[0].data.astype(float), hdul[0].header.copy())


def full_disk(spec):
    """Header and map (WCS only) of the stored full-disk image of the record."""
    header = Catalogue().query(spec).header(0)
    return header, sunpy.map.Map(np.zeros((2, 2)), dict(header))


def corners_and_centre(smap):
    ny, nx = smap.data.shape
    return np.array([[0, 0], [nx - 1, 0], [0, ny - 1], [nx - 1, ny - 1], [(nx - 1) / 2, (ny - 1) / 2]], dtype=float)


def full_disk_pixels(cutout, disk, pixels):
    """Full-disk pixel of each cut-out pixel, through the helioprojective angles of the two WCSs.

    The angles are compared as they are, not transformed between the maps' observers: an HMI
    cut-out's CRLN_OBS is im_patch's corrected one while the full disk's keeps JSOC's
    0.0818941 deg offset (CALVER64 bit 28 unset), so sunpy would see two observers for one sky.
    """
    tx, ty = cutout.wcs.pixel_to_world_values(pixels[:, 0], pixels[:, 1])
    x, y = disk.wcs.world_to_pixel_values(tx, ty)
    return np.stack([x, y], axis=1)


def stored_pixels(header, kind, x1, y1, shape, bscale):
    """The stored pixels ``[y1:, x1:]`` of the full-disk image (NaN outside it), quantised as stored."""
    out = np.full(shape, np.nan)
    r0, c0 = max(y1, 0), max(x1, 0)
    r1, c1 = min(y1 + shape[0], 4096), min(x1 + shape[1], 4096)
    if r1 > r0 and c1 > c0:
        block = render(header, kind, region=(slice(r0, r1), slice(c0, c1)))
        out[r0 - y1 : r1 - y1, c0 - x1 : c1 - x1] = np.round(block / bscale) * bscale
    return out


def locate(cutout, header, kind, guess, flip=False, bscale=1.0):
    """The corner (x1, y1) of the full-disk block the cut-out copies (searched around ``guess``)."""
    data = cutout.data[::-1, ::-1] if flip else cutout.data
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            x1, y1 = guess[0] + dx, guess[1] + dy
            block = stored_pixels(header, kind, x1, y1, data.shape, bscale)
            if np.allclose(block, data, atol=0.6 * bscale, rtol=1e-6, equal_nan=True):
                return x1, y1
    raise AssertionError("the cut-out is not a copy of any nearby block of the full-disk image")


def guess_corner(disk, cutout, world):
    x, y = disk.world_to_pixel(world)
    ny, nx = cutout.data.shape
    return round(x.to_value(u.pix) - (nx - 1) / 2), round(y.to_value(u.pix) - (ny - 1) / 2)


def test_aia_cutout_pixels_have_the_full_disk_world_coordinates(emu4096, tmp_path):
    cutout = export_one(emu4096, AIA, dict(ARCSEC_BOX, x=-517.2, y=-246.0), tmp_path)
    header, disk = full_disk(AIA)
    world = SkyCoord(-517.2 * u.arcsec, -246.0 * u.arcsec, frame=disk.coordinate_frame)
    x1, y1 = locate(cutout, header, "aia", guess_corner(disk, cutout, world))
    pixels = corners_and_centre(cutout)
    np.testing.assert_allclose(full_disk_pixels(cutout, disk, pixels), pixels + np.array([x1, y1]), atol=0.01)


def test_hmi_cutout_is_flipped_north_up_with_a_consistent_wcs(emu4096, tmp_path):
    cutout = export_one(emu4096, HMI, dict(ARCSEC_BOX, x=300.0, y=200.0), tmp_path)
    header, disk = full_disk(HMI)
    assert abs(abs(header["CROTA2"]) - 180.0) < 1.0
    assert abs(cutout.meta["crota2"]) < 1.0
    assert "Image rotated 180 degrees." in str(cutout.meta.get("history"))
    world = SkyCoord(300.0 * u.arcsec, 200.0 * u.arcsec, frame=disk.coordinate_frame)
    ny, nx = cutout.data.shape
    cx, cy = (v.to_value(u.pix) for v in disk.world_to_pixel(world))
    guess = (round(cx - (nx - 1) / 2), round(cy - (ny - 1) / 2))
    x1, y1 = locate(cutout, header, "magnetogram", guess, flip=True, bscale=0.1)
    pixels = corners_and_centre(cutout)
    expected = np.stack([x1 + nx - 1 - pixels[:, 0], y1 + ny - 1 - pixels[:, 1]], axis=1)  # flipped copy
    np.testing.assert_allclose(full_disk_pixels(cutout, disk, pixels), expected, atol=0.01)
    # north is up: the north-most world point is at the top of the cut-out
    top, bottom = cutout.pixel_to_world([(nx - 1) / 2] * 2 * u.pix, [ny - 1, 0] * u.pix)
    assert top.Ty > bottom.Ty


def test_registered_cutout_wcs_maps_onto_the_rotated_full_disk_pixels(emu4096, tmp_path):
    cutout = export_one(emu4096, AIA, dict(ARCSEC_BOX, x=-517.2, y=-246.0, r=1), tmp_path)
    header, disk = full_disk(AIA)
    target = disk.world_to_pixel(SkyCoord(-517.2 * u.arcsec, -246.0 * u.arcsec, frame=disk.coordinate_frame))
    target = np.array([v.to_value(u.pix) for v in target])  # t_ref is this frame: no tracking motion
    rot = math.radians(header["CROTA2"])
    turn = np.array([[math.cos(rot), math.sin(rot)], [-math.sin(rot), math.cos(rot)]])  # undoes CROTA2
    pixels = corners_and_centre(cutout)
    mid = pixels[-1]
    expected = target + (pixels - mid) @ turn.T
    assert cutout.meta["crota2"] == 0.0
    np.testing.assert_allclose(full_disk_pixels(cutout, disk, pixels), expected, atol=0.01)


def test_box_partly_off_the_image_keeps_its_wcs(emu4096, tmp_path):
    args = {"t": 1, "t_ref": START, "locunits": "pixels", "boxunits": "pixels", "x": 10, "y": 2000}
    cutout = export_one(emu4096, AIA, dict(args, width=60, height=40), tmp_path)
    header, disk = full_disk(AIA)
    nan_columns = np.isnan(cutout.data).all(axis=0)
    assert nan_columns[:21].all()  # x1 = round(9 - 30) = -21
    assert not nan_columns[21:].any()
    x1, y1 = locate(cutout, header, "aia", (-21, 1979))
    assert (x1, y1) == (-21, 1979)
    pixels = corners_and_centre(cutout)
    np.testing.assert_allclose(full_disk_pixels(cutout, disk, pixels), pixels + np.array([x1, y1]), atol=0.01)


def test_im_patch_after_aia_scale_cuts_the_scaled_image(emulator, email, tmp_path):
    # 256-pixel stored images: aia_scale_aialev1 makes 0.6"-equivalent (here 9.6") pixels, im_patch cuts them.
    client = drms.Client(server=emulator.server_config, email=email)
    process = {
        "aia_scale_aialev1": {},
        "im_patch": dict(ARCSEC_BOX, x=-517.2, y=-246.0, r=1, width=345.6, height=345.6),
    }
    request = client.export(AIA, method="url", protocol="fits", process=process)
    request.wait(sleep=0)
    (path,) = request.download(tmp_path).download
    with fits.open(path) as hdul:
        cutout = sunpy.map.Map(hdul[0].data.astype(float), hdul[0].header.copy())
    assert cutout.meta["cdelt1"] == pytest.approx(0.6 * 4096 / emulator.image_size)
    assert cutout.data.shape == (int(1 + 345.6 / cutout.meta["cdelt1"]),) * 2
    centre = cutout.pixel_to_world(*(((n - 1) / 2) * u.pix for n in cutout.data.shape[::-1]))
    assert abs(centre.Tx.to_value(u.arcsec) + 517.2) < 0.1 * cutout.meta["cdelt1"]
    assert abs(centre.Ty.to_value(u.arcsec) + 246.0) < 0.1 * cutout.meta["cdelt1"]
