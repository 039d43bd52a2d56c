"""
Sub-pixel registration (``r=1``) of tracked im_patch cut-outs, measured by cross-correlation of
the emulator's surface texture (fixed in the Carrington frame), with unregistered frames as the
negative control.
"""

import numpy as np
import pytest

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst, Helioprojective

START = "2014-02-06T00:00:00"
SPEC = "aia.lev1_euv_12s[2014-02-06T00:00:00Z/50m@2m][171]{image}"  # 25 frames
ARGS = {
    "t": 0,
    "locunits": "arcsec",
    "x": 100.0,
    "y": 50.0,
    "t_ref": START,
    "boxunits": "pixels",
    "width": 200,
    "height": 200,
}


def _peak(c_minus, c0, c_plus):
    return 0.5 * (c_minus - c_plus) / (c_minus - 2.0 * c0 + c_plus)


def shift_between(a, b):
    """``(dx, dy)`` with ``b(x) ~ a(x - d)``: cross-correlation peak with a parabolic sub-pixel fit."""
    window = np.outer(np.hanning(a.shape[0]), np.hanning(a.shape[1]))
    fa = np.fft.fft2((a - a.mean()) * window)
    fb = np.fft.fft2((b - b.mean()) * window)
    cc = np.real(np.fft.ifft2(fb * np.conj(fa)))
    py, px = np.unravel_index(np.argmax(cc), cc.shape)
    ny, nx = cc.shape
    dx = _peak(cc[py, (px - 1) % nx], cc[py, px], cc[py, (px + 1) % nx])
    dy = _peak(cc[(py - 1) % ny, px], cc[py, px], cc[(py + 1) % ny, px])
    wrap = lambda v, n: v - n if v > n // 2 else v  # noqa: E731
    return np.array([wrap(px, nx) + dx, wrap(py, ny) + dy])


def tracked_point_pixels(maps, reference):
    """Pixel, in every map, of the Carrington point under ``(x, y)`` arcsec of the first frame."""
    first = maps[0]
    carrington = HeliographicCarrington(observer=first.observer_coordinate, obstime=first.date, rsun=first.rsun_meters)
    point = SkyCoord(reference[0] * u.arcsec, reference[1] * u.arcsec, frame=first.coordinate_frame)
    point = point.transform_to(carrington)
    times = Time([m.date for m in maps])
    observer = SkyCoord(
        [m.meta["hgln_obs"] for m in maps] * u.deg,
        [m.meta["hglt_obs"] for m in maps] * u.deg,
        [m.meta["dsun_obs"] for m in maps] * u.m,
        frame=HeliographicStonyhurst(obstime=times),
    )
    n = len(maps)
    track = SkyCoord(
        np.full(n, point.lon.to_value(u.deg)) * u.deg,
        np.full(n, point.lat.to_value(u.deg)) * u.deg,
        frame=HeliographicCarrington(observer=observer, obstime=times, rsun=first.rsun_meters),
    ).transform_to(Helioprojective(observer=observer, obstime=times))
    units = first.wcs.wcs.cunit
    return np.array(
        [
            m.wcs.world_to_pixel_values(tx.to_value(units[0]), ty.to_value(units[1]))
            for m, tx, ty in zip(maps, track.Tx, track.Ty, strict=True)
        ]
    )


@pytest.fixture(scope="module")
def sequences(emu4096, export_maps, tmp_path_factory):
    out = tmp_path_factory.mktemp("register")
    return export_maps(emu4096, SPEC, dict(ARGS, r=1), out / "r1"), export_maps(
        emu4096, SPEC, dict(ARGS, r=0), out / "r0"
    )


def test_registered_frames_align_to_a_tenth_of_a_pixel(sequences):
    registered, _ = sequences
    assert len(registered) == 25
    assert all(m.data.shape == (200, 200) and np.isfinite(m.data).all() for m in registered)
    assert all(m.meta["crota2"] == 0.0 for m in registered)
    assert all("Image registered by shift of" in str(m.meta.get("history")) for m in registered)
    shifts = np.array([shift_between(registered[0].data, m.data) for m in registered[1:]])
    assert np.abs(shifts).max() < 0.1
    # the tracked point sits at the array centre of every registered frame, by its own WCS
    centre = tracked_point_pixels(registered, (ARGS["x"], ARGS["y"]))
    np.testing.assert_allclose(centre, 99.5, atol=0.1)


def test_unregistered_frames_show_fractional_offsets_and_whole_pixel_jumps(sequences):
    _, plain = sequences
    assert len(plain) == 25
    position = tracked_point_pixels(plain, (ARGS["x"], ARGS["y"]))  # where the tracked point falls
    predicted = position[1:] - position[0]
    measured = np.array([shift_between(plain[0].data, m.data) for m in plain[1:]])
    np.testing.assert_allclose(measured, predicted, atol=0.1)
    assert np.abs(measured).max() > 0.3  # not aligned: offsets up to half a pixel
    assert np.abs(np.diff(position[:, 0])).max() > 0.5  # the box steps by whole pixels
    assert np.abs(position - 99.5).max() <= 1.0  # yet it stays on the tracked point
