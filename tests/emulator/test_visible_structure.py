"""
The synthetic Sun shows structure at the image sizes the docs use (1024 and 512 px), fixed on
the rotating Sun: an im_patch cut-out tracked at the Carrington rate holds its pattern, an
untracked one sees it carried away by the solar rotation, and the same region rendered at 512,
1024 and 4096 px is the same Sun at different resolution.

Shifts are measured by phase correlation (subpixel, by an upsampled cross-power spectrum); the
expected shifts come from sunpy.coordinates (each cut-out's own WCS and observer, the Carrington
frame rotating at the Carrington rate), not from the emulator's closed-form geometry.
"""

import drms
import numpy as np
import pytest
from scipy import ndimage

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time

import sunpy.map
from sunpy.coordinates import HeliographicCarrington, sun

from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.common.timeutil import parse_drms_time
from sunpy_jsoc_cutout.testing.sun import ephemeris
from sunpy_jsoc_cutout.testing.sun.noaa import region
from sunpy_jsoc_cutout.testing.sun.render import render
from sunpy_jsoc_cutout.testing.sun.sungeometry import observer_geometry

EMAIL = "user@example.com"
IMAGE_SIZE = 1024
START = "2014-02-06T00:00:00"
SPAN = f"aia.lev1_euv_12s[{START}Z/5h@4h][171]{{image}}"  # two records, 4 h apart
QUIET = (80.0, -5.0)  # Carrington lon, lat: quiet Sun 5 deg west of the central meridian
AR = 11964  # latitude 30.4 N, near the central meridian
UPSAMPLE = 20


@pytest.fixture(scope="module")
def emu1024(tmp_path_factory):
    root = tmp_path_factory.mktemp("sums1024")
    with JSOCEmulator(time_model="fast", image_size=IMAGE_SIZE, registered=(EMAIL,), root=root) as emu:
        yield emu


def export(emu, spec, out_dir, process=None) -> list:
    """The exported files of ``spec`` as sunpy maps, in time order."""
    client = drms.Client(server=emu.server_config, email=EMAIL)
    request = client.export(spec, method="url", protocol="fits", process=process)
    assert request.wait(sleep=0)
    maps = []
    for path in sorted(request.download(out_dir).download):
        with fits.open(path) as hdul:
            hdu = hdul[-1]
            maps.append(sunpy.map.Map(hdu.data.astype(float), hdu.header.copy()))
    return maps


def cutouts(emu, tmp_path, lon, lat, tracking) -> list:
    """The first and last im_patch cut-out (240" square) of ``SPAN`` at Carrington (lon, lat)."""
    car_rot = int(sun.carrington_rotation_number(Time(START)))
    args = {"t": tracking, "locunits": "carrlong", "car_rot": car_rot, "x": lon, "y": lat}
    args.update(boxunits="arcsec", width=240, height=240)
    maps = export(emu, SPAN, tmp_path, {"im_patch": args})
    assert len(maps) == 2
    assert (maps[1].date - maps[0].date).to_value(u.h) == pytest.approx(4.0, abs=0.01)
    return maps


def high_pass(image: np.ndarray, sigma: float = 6.0) -> np.ndarray:
    """Relative contrast against the local mean (scale ``sigma`` pixels)."""
    return image / ndimage.gaussian_filter(image, sigma) - 1.0


def _upsampled_dft(spectrum: np.ndarray, size: int, factor: int, offset: np.ndarray) -> np.ndarray:
    """The inverse DFT of ``spectrum`` on a ``size``-point grid of step ``1/factor`` pixels about
    ``offset`` (Guizar-Sicairos et al. 2008, matrix-multiply DFT)."""
    ny, nx = spectrum.shape
    grid = np.arange(size) - size // 2
    ky, kx = np.fft.fftfreq(ny), np.fft.fftfreq(nx)
    row_kernel = np.exp(2j * np.pi * np.outer(grid / factor + offset[0], ky))
    col_kernel = np.exp(2j * np.pi * np.outer(kx, grid / factor + offset[1]))
    return row_kernel @ spectrum @ col_kernel


def phase_shift(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Subpixel (dx, dy) by which the pattern of ``first`` has moved in ``last``."""
    window = np.outer(np.hanning(first.shape[0]), np.hanning(first.shape[1]))
    a, b = (np.fft.fft2(high_pass(img) * window) for img in (first, last))
    cross = b * np.conj(a)
    cross /= np.abs(cross) + 1e-12
    corr = np.fft.ifft2(cross).real
    peak = np.array(np.unravel_index(np.argmax(corr), corr.shape), dtype=float)
    peak = np.where(peak > np.array(corr.shape) / 2, peak - np.array(corr.shape), peak)
    fine = np.abs(_upsampled_dft(cross, 3 * UPSAMPLE, UPSAMPLE, peak))
    refined = peak + (np.array(np.unravel_index(np.argmax(fine), fine.shape)) - 3 * UPSAMPLE // 2) / UPSAMPLE
    return refined[::-1]


def carrington_pixel(smap, lon, lat) -> np.ndarray:
    """Pixel (x, y) of a fixed Carrington point, by sunpy, in the map's own frame."""
    frame = HeliographicCarrington(observer=smap.observer_coordinate, obstime=smap.date, rsun=smap.rsun_meters)
    return np.array([v.to_value(u.pix) for v in smap.world_to_pixel(SkyCoord(lon * u.deg, lat * u.deg, frame=frame))])


def ar_position():
    t = parse_drms_time(START.replace("-", ".").replace("T", "_") + "_UTC")
    ar = region(AR, t)
    return ar.carr_lon, ar.lat


def test_phase_shift_measures_a_known_shift():
    first = render(_header(1024), "aia", region=(slice(400, 500), slice(500, 600)), active_regions=[])
    moved = render(_header(1024), "aia", region=(slice(397, 497), slice(505, 605)), active_regions=[])
    # the pattern at column 505 of the full image is at column 0 of `moved`: it moved by (-5, +3)
    np.testing.assert_allclose(phase_shift(first, moved), [-5.0, 3.0], atol=0.05)


@pytest.mark.parametrize("target", ["quiet", "active region"])
def test_tracked_cutout_holds_its_pattern_for_four_hours(emu1024, tmp_path, target):
    lon, lat = QUIET if target == "quiet" else ar_position()
    first, last = cutouts(emu1024, tmp_path, lon, lat, tracking=0)  # t=0: tracking on
    assert high_pass(first.data).std() > 0.05  # there is a pattern to hold
    shift = phase_shift(first.data, last.data)
    assert np.hypot(*shift) < 1.0
    if target == "quiet":
        # the network is fixed in the Carrington frame: what is left is the whole-pixel rounding
        # of the box corner (im_patch cuts whole pixels), as sunpy sees it in the two cut-outs
        residual = carrington_pixel(last, lon, lat) - carrington_pixel(first, lon, lat)
        np.testing.assert_allclose(shift, residual, atol=0.15)
    # (the region drifts by differential rotation too, ~0.4 px in 4 h at 1024 px)


def test_untracked_cutout_loses_its_pattern_to_the_rotation(emu1024, tmp_path):
    lon, lat = QUIET
    first, last = cutouts(emu1024, tmp_path, lon, lat, tracking=1)  # t=1: a fixed box
    expected = carrington_pixel(last, lon, lat) - carrington_pixel(first, lon, lat)
    # 4 h at the synodic Carrington rate (~13.2 deg/day) near the central meridian: ~15 px at 2.4"/px
    synodic = (360.0 / 27.2753) * 4.0 / 24.0
    rsun_px = first.rsun_obs.to_value(u.arcsec) / first.scale.axis1.to_value(u.arcsec / u.pix)
    arithmetic = rsun_px * np.cos(np.deg2rad(lat)) * np.deg2rad(synodic) * np.cos(np.deg2rad(5.0))
    assert expected[0] == pytest.approx(arithmetic, rel=0.05)
    assert expected[0] > 12.0
    shift = phase_shift(first.data, last.data)
    # the box is 100 px and the rotation shift varies by < 0.3 px across it
    np.testing.assert_allclose(shift, expected, atol=0.5)


def _header(n: int, when: str = "2014.02.05_08:00:00_UTC") -> dict:
    """A full-disk AIA 171 header of ``n`` pixels, seen from the emulator's SDO at ``when``."""
    eph = {k: float(v[0]) for k, v in ephemeris.observer_keywords(parse_drms_time(when)).items()}
    scale = 0.6 * 4096 / n
    return {
        "NAXIS1": n,
        "NAXIS2": n,
        "CDELT1": scale,
        "CDELT2": scale,
        "CRPIX1": n / 2 + 0.5,
        "CRPIX2": n / 2 + 0.5,
        "CRVAL1": 0.0,
        "CRVAL2": 0.0,
        "CROTA2": 0.0,
        "DSUN_OBS": eph["DSUN_OBS"],
        "CRLN_OBS": eph["CRLN_TRUE"],
        "CRLT_OBS": eph["CRLT_OBS"],
        "CALVER64": 1 << 28,  # CRLN_OBS is the true longitude
        "T_OBS": when,
        "WAVELNTH": 171,
    }


def _block_mean(image: np.ndarray, factor: int) -> np.ndarray:
    ny, nx = (s // factor for s in image.shape)
    return image[: ny * factor, : nx * factor].reshape(ny, factor, nx, factor).mean(axis=(1, 3))


@pytest.mark.parametrize("kind", ["aia", "magnetogram"])
def test_structure_at_1024_is_well_above_quantisation(kind):
    img = np.array(render(_header(1024), kind, region=(slice(312, 712), slice(312, 712))))
    if kind == "aia":
        contrast = high_pass(img).std()
        assert contrast > 0.1  # the stored integers are quantised to 1 DN of ~700: 0.0004 rms
    else:
        assert (img - ndimage.gaussian_filter(img, 6.0)).std() > 10.0  # gauss; HMI's noise is ~7 G


@pytest.mark.parametrize(("coarse", "fine"), [(512, 1024), (1024, 4096)])
def test_same_sun_at_different_resolution(coarse, fine):
    """A quiet 800" x 800" region near disk centre, rendered at two sizes: the finer image,
    block-averaged to the coarser pixels, matches it."""
    factor = fine // coarse
    rows = slice(coarse // 2 - coarse // 6, coarse // 2 + coarse // 6)
    cols = slice(coarse // 2 + coarse // 12, coarse // 2 + coarse // 12 + coarse // 3)
    low = np.array(render(_header(coarse), "aia", region=(rows, cols), active_regions=[]))
    fine_region = tuple(slice(s.start * factor, s.stop * factor) for s in (rows, cols))
    high = _block_mean(np.array(render(_header(fine), "aia", region=fine_region, active_regions=[])), factor)
    assert high_pass(low).std() > 0.05
    smooth = (ndimage.gaussian_filter(high_pass(img), 1.0) for img in (low, high))
    assert np.corrcoef(*(s.ravel() for s in smooth))[0, 1] > 0.9
    assert np.mean(low) == pytest.approx(np.mean(high), rel=0.03)


def test_hmi_shows_dark_spots_on_a_bipolar_field():
    lon, lat = ar_position()
    header = _header(1024, START.replace("-", ".").replace("T", "_") + "_UTC")
    x, y, _, visible = observer_geometry(header).carrington_to_pixel(lon, lat)
    assert visible
    box = (slice(int(y) - 40, int(y) + 40), slice(int(x) - 50, int(x) + 50))
    continuum = np.array(render(header, "continuum", region=box))
    field = np.array(render(header, "magnetogram", region=box))
    quiet = np.nanmedian(continuum)
    # two sunspots (umbrae below half the quiet Sun, penumbrae around them), well apart
    labels, count = ndimage.label(continuum < 0.6 * quiet)
    spots = [np.unravel_index(np.argmin(np.where(labels == i, continuum, np.inf)), labels.shape) for i in (1, 2)]
    assert count >= 2
    assert all(continuum[spot] < 0.5 * quiet for spot in spots)
    assert np.hypot(*np.subtract(*spots)) > 15.0
    penumbra = (continuum > 0.6 * quiet) & (continuum < 0.9 * quiet)
    assert penumbra.sum() > (labels > 0).sum()
    # each spot sits on a strong field, of opposite polarities (a bipole)
    polarities = [field[spot] for spot in spots]
    assert min(abs(b) for b in polarities) > 300.0  # gauss; the quiet network stays under ~100
    assert polarities[0] * polarities[1] < 0
    # the leading (western) spot has the polarity of the northern hemisphere's leaders here
    west = max(spots, key=lambda spot: spot[1])
    assert field[west] > 0
