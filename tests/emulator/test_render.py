"""The emulator's synthetic Sun: geometry against sunpy, limb, active regions, texture, regions."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

import sunpy.map
from sunpy.coordinates import frames, get_earth

from sunpy_jsoc_cutout.testing.sun.arfeatures import region_specs
from sunpy_jsoc_cutout.testing.sun.render import (
    HeaderGeometryError,
    RegionSpec,
    UnknownKind,
    clear_cache,
    render,
)
from sunpy_jsoc_cutout.testing.sun.sungeometry import CRLN_OBS_OFFSET, observer_geometry


def sdo_like_header(time="2014-02-05T08:00:00", *, crota=0.0, cdelt=0.6, n=4096, crval=(0.0, 0.0), hmi=False):
    """A full-disk header whose observer keywords come from sunpy (SDO-like: near Earth)."""
    t = Time(time)
    earth = get_earth(t)
    obs = SkyCoord(
        earth.lon + 0.01 * u.deg,
        earth.lat + 0.003 * u.deg,
        earth.radius * 0.99995,
        frame=frames.HeliographicStonyhurst,
        obstime=t,
    )
    l0 = obs.transform_to(frames.HeliographicCarrington(observer=obs, obstime=t)).lon.to_value(u.deg)
    dsun = obs.radius.to_value(u.m)
    header = {
        "NAXIS": 2,
        "NAXIS1": n,
        "NAXIS2": n,
        "CTYPE1": "HPLN-TAN",
        "CTYPE2": "HPLT-TAN",
        "CUNIT1": "arcsec",
        "CUNIT2": "arcsec",
        "CDELT1": cdelt,
        "CDELT2": cdelt,
        "CRPIX1": n / 2 + 0.5 + 3.25 * n / 4096,
        "CRPIX2": n / 2 + 0.5 - 7.75 * n / 4096,
        "CRVAL1": crval[0],
        "CRVAL2": crval[1],
        "CROTA2": crota,
        "DSUN_OBS": dsun,
        "RSUN_REF": 696000000.0,
        "HGLN_OBS": obs.lon.to_value(u.deg),
        "HGLT_OBS": obs.lat.to_value(u.deg),
        "CRLN_OBS": l0 + CRLN_OBS_OFFSET,
        "CRLT_OBS": obs.lat.to_value(u.deg),
        "CALVER64": 0,
        "DATE-OBS": t.isot,
        "T_OBS": t.isot + "Z",
        "WAVELNTH": 171,
        "WAVEUNIT": "angstrom",
        "RSUN_OBS": float(np.rad2deg(np.arcsin(696e6 / dsun)) * 3600),
        "TELESCOP": "SDO/AIA",
        "INSTRUME": "AIA_3",
    }
    if hmi:
        header.update(TELESCOP="SDO/HMI", INSTRUME="HMI_SIDE1", CONTENT="CONTINUUM INTENSITY", WAVELNTH=6173.0)
    return header, obs


def header_map(header):
    """A sunpy map carrying the header's WCS (data are irrelevant)."""
    return sunpy.map.Map(np.zeros((header["NAXIS2"], header["NAXIS1"]), dtype=np.float32), header)


def carrington_point(obs, lon, lat):
    """A point on the surface (radius RSUN_REF, as the headers say, not sunpy's default)."""
    frame = frames.HeliographicCarrington(observer=obs, obstime=obs.obstime, rsun=696000 * u.km)
    return SkyCoord(lon * u.deg, lat * u.deg, frame=frame)


def observer_l0(header):
    return header["CRLN_OBS"] - CRLN_OBS_OFFSET


@pytest.mark.parametrize(
    ("kwargs", "rows"),
    [
        ({}, slice(600, 3500, 700)),
        ({"crota": 179.93, "cdelt": 0.504, "hmi": True}, slice(500, 3600, 775)),
        ({"crota": 23.0, "crval": (150.0, -300.0)}, slice(900, 3200, 575)),
    ],
)
def test_pixel_geometry_matches_sunpy(kwargs, rows):
    header, obs = sdo_like_header(**kwargs)
    geom = observer_geometry(header)
    samples = [geom.sample(slice(r, r + 1), slice(300, 3800)) for r in range(rows.start, rows.stop, rows.step)]
    yy, xx = np.mgrid[rows, 300:3800:350]
    x, y, z = (np.concatenate([s.xyz[k][:, ::350] for s in samples]) for k in range(3))
    on = np.concatenate([s.on_disk[:, ::350] for s in samples])
    world = header_map(header).pixel_to_world(xx * u.pix, yy * u.pix)
    hgc = world.transform_to(frames.HeliographicCarrington(observer=obs, obstime=obs.obstime))
    assert np.array_equal(on, np.isfinite(hgc.lon.deg))
    assert on.sum() > 20
    dlon = (np.rad2deg(np.arctan2(y, x)) - hgc.lon.deg + 180) % 360 - 180
    dlat = np.rad2deg(np.arcsin(np.clip(z, -1, 1))) - hgc.lat.deg
    assert np.abs(dlon[on]).max() < 1e-6
    assert np.abs(dlat[on]).max() < 1e-6


def test_carrington_to_pixel_matches_sunpy():
    header, obs = sdo_like_header(crota=179.93, cdelt=0.504, hmi=True)
    geom = observer_geometry(header)
    for lon_off, lat in [(-30.0, 20.0), (50.0, -35.0), (0.0, 0.0)]:
        lon = observer_l0(header) + lon_off
        x, y, _, visible = geom.carrington_to_pixel(lon, lat)
        px = header_map(header).world_to_pixel(carrington_point(obs, lon, lat))
        assert visible
        assert abs(x - px.x.value) < 1e-4
        assert abs(y - px.y.value) < 1e-4
    assert not geom.carrington_to_pixel(observer_l0(header) + 180.0, 0.0)[3]


@pytest.mark.parametrize("kind", ["aia", "continuum"])
def test_limb_radius_matches_rsun_obs(kind):
    header, _ = sdo_like_header(hmi=kind == "continuum")
    small = dict(
        header,
        NAXIS1=1024,
        NAXIS2=1024,
        CDELT1=2.4,
        CDELT2=2.4,
        CRPIX1=(header["CRPIX1"] - 0.5) / 4 + 0.5,
        CRPIX2=(header["CRPIX2"] - 0.5) / 4 + 0.5,
    )
    img = render(small, kind, active_regions=[])
    expected = header["RSUN_OBS"] / small["CDELT1"]
    row = img[round(small["CRPIX2"] - 1)]
    if kind == "continuum":
        assert np.isnan(img[0, 0])
        radius_from_area = np.sqrt(np.isfinite(img).sum() / np.pi)
        assert abs(radius_from_area - expected) < 1.0
        edges = np.flatnonzero(np.isfinite(row))[[0, -1]]
    else:
        assert 0 < img[0, 0] < 0.05 * img[512, 512]  # faint corona, decaying with height
        drop = np.diff(row)
        edges = np.array([np.argmax(drop), np.argmin(drop) + 1])
    centre = small["CRPIX1"] - 1
    assert abs((edges[1] - edges[0]) / 2 - expected) < 1.0
    assert abs((edges[1] + edges[0]) / 2 - centre) < 1.0


def feature_centroid(header, kind, region, reg):
    with_ar = render(header, kind, region=region, active_regions=[reg])
    without = render(header, kind, region=region, active_regions=[])
    feature = np.abs(with_ar - without)
    feature = np.where(np.isfinite(feature), feature, 0.0)
    yy, xx = np.mgrid[region]
    return (feature * xx).sum() / feature.sum(), (feature * yy).sum() / feature.sum()


@pytest.mark.parametrize(
    ("kind", "lon_off", "lat"), [("aia", 40.0, 25.0), ("aia", -62.0, -12.0), ("continuum", 20.0, 15.0)]
)
def test_active_region_centroid_where_sunpy_puts_it(kind, lon_off, lat):
    header, obs = sdo_like_header(crota=179.93 if kind == "continuum" else 0.0, hmi=kind == "continuum")
    lon = (observer_l0(header) + lon_off) % 360
    reg = RegionSpec(12000, lat, lon, sigma_deg=1.2, strength=1.0)
    px = header_map(header).world_to_pixel(carrington_point(obs, lon, lat))
    x0, y0 = int(px.x.value), int(px.y.value)
    region = (slice(y0 - 120, y0 + 120), slice(x0 - 120, x0 + 120))
    cx, cy = feature_centroid(header, kind, region, reg)
    assert abs(cx - px.x.value) < 1.0
    assert abs(cy - px.y.value) < 1.0


def test_hmi_image_right_way_up_after_rotate():
    header, _ = sdo_like_header(crota=179.93, cdelt=0.504, hmi=True)
    small = dict(
        header,
        NAXIS1=512,
        NAXIS2=512,
        CDELT1=0.504 * 8,
        CDELT2=0.504 * 8,
        CRPIX1=(header["CRPIX1"] - 0.5) / 8 + 0.5,
        CRPIX2=(header["CRPIX2"] - 0.5) / 8 + 0.5,
    )
    spot = RegionSpec(12001, 35.0, observer_l0(header) + 25.0, sigma_deg=3.0, strength=1.3)
    img = render(small, "continuum", active_regions=[spot])
    raw_row, _ = np.unravel_index(np.nanargmin(img), img.shape)
    assert raw_row < small["CRPIX2"] - 1  # stored upside down (CROTA2 ~ 180)
    rotated = sunpy.map.Map(np.array(img), small).rotate(order=1, missing=0.0)
    data = np.where(rotated.data > 1000, rotated.data, np.inf)
    row, col = np.unravel_index(np.argmin(data), data.shape)
    where = rotated.pixel_to_world(col * u.pix, row * u.pix)
    assert where.Ty > 300 * u.arcsec  # north, where a 35 deg N region belongs
    assert where.Tx > 150 * u.arcsec  # west of the central meridian (larger Carrington longitude)


def test_texture_is_fixed_on_the_carrington_sphere():
    head_a, obs_a = sdo_like_header("2014-02-05T08:00:00")
    head_b, obs_b = sdo_like_header("2014-02-05T10:30:00", crota=0.01)
    region_a = (slice(2000, 2048), slice(1900, 1948))
    img_a = render(head_a, "aia", region=region_a, active_regions=[])
    yy, xx = np.mgrid[region_a]
    surface = (
        header_map(head_a)
        .pixel_to_world(xx * u.pix, yy * u.pix)
        .transform_to(frames.HeliographicCarrington(observer=obs_a, obstime=obs_a.obstime))
    )
    same_points = carrington_point(obs_b, surface.lon.deg, surface.lat.deg)
    pix_b = header_map(head_b).world_to_pixel(same_points)
    r0, c0 = int(pix_b.y.value.min()) - 8, int(pix_b.x.value.min()) - 8
    region_b = (slice(r0, int(pix_b.y.value.max()) + 9), slice(c0, int(pix_b.x.value.max()) + 9))
    img_b = render(head_b, "aia", region=region_b, active_regions=[])
    assert pix_b.x.value.mean() - xx.mean() > 20  # the Sun rotated by many pixels in between

    def texture_of(img, coords):
        high = np.asarray(img) / ndimage.gaussian_filter(np.asarray(img), 6.0) - 1.0
        return ndimage.map_coordinates(high, coords, order=3)

    tex_a = texture_of(img_a, [yy - 2000, xx - 1900])[8:-8, 8:-8]
    tex_b = texture_of(img_b, [pix_b.y.value - r0, pix_b.x.value - c0])[8:-8, 8:-8]
    shifted = texture_of(img_b, [pix_b.y.value - r0, pix_b.x.value - c0 + 1.0])[8:-8, 8:-8]
    assert np.std(tex_a) > 0.05
    assert np.corrcoef(tex_a.ravel(), tex_b.ravel())[0, 1] > 0.99
    assert np.corrcoef(tex_a.ravel(), shifted.ravel())[0, 1] < 0.75  # so the match is sub-pixel


def test_region_equals_slice_of_full_render_exactly():
    header, _ = sdo_like_header(crota=179.93, hmi=True)
    small = dict(header, NAXIS1=1024, NAXIS2=1024, CDELT1=0.6, CDELT2=0.6, CRPIX1=700.3, CRPIX2=-150.2)
    regs = [RegionSpec(1, 10.0, observer_l0(header) + 5.0), RegionSpec(2, -20.0, observer_l0(header) - 15.0, 2.0)]
    region = (slice(301, 733), slice(17, 1000))
    for kind in ("aia", "continuum", "magnetogram"):
        clear_cache()
        part = render(small, kind, region=region, active_regions=regs)
        clear_cache()
        full = render(small, kind, active_regions=regs)
        assert part.shape == (432, 983)
        assert np.isfinite(full).sum() > 1000
        assert np.array_equal(part, full[region], equal_nan=True)
        assert np.array_equal(render(small, kind, region=region, active_regions=regs), part, equal_nan=True)


def test_calver_bit_28_means_crln_obs_is_true():
    header, _ = sdo_like_header()
    small = dict(header, NAXIS1=256, NAXIS2=256, CDELT1=9.6, CDELT2=9.6, CRPIX1=128.5, CRPIX2=128.5)
    regs = [RegionSpec(3, 10.0, observer_l0(header) + 30.0, 3.0)]
    corrected = dict(small, CRLN_OBS=observer_l0(header), CALVER64=1 << 28)
    wrong = dict(small, CRLN_OBS=observer_l0(header))
    base = render(small, "aia", active_regions=regs)
    np.testing.assert_allclose(render(corrected, "aia", active_regions=regs), base, rtol=1e-9)
    assert not np.allclose(render(wrong, "aia", active_regions=regs), base, rtol=1e-3)


def test_render_is_deterministic_and_read_only():
    header, _ = sdo_like_header()
    region = (slice(2000, 2064), slice(2000, 2064))
    first = np.array(render(header, "aia", region=region, active_regions=[]))
    clear_cache()
    again = render(header, "aia", region=region, active_regions=[])
    assert np.array_equal(first, again)
    with pytest.raises(ValueError, match="read-only"):
        again[0, 0] = 1.0


def test_spikes_are_a_small_list():
    header, _ = sdo_like_header()
    spikes = render(header, "spikes")
    assert spikes.shape[0] == 3
    assert 150 <= spikes.shape[1] < 450
    assert np.all(np.diff(spikes[0]) > 0)
    assert spikes[0].max() < 4096 * 4096
    assert np.all(spikes[2] > spikes[1])
    assert np.array_equal(spikes, render(dict(header), "spikes"))
    assert not np.array_equal(spikes, render(dict(header, T_OBS="2014-02-05T08:00:12.57Z"), "spikes"))


def test_bad_requests_raise():
    header, _ = sdo_like_header()
    with pytest.raises(UnknownKind):
        render(header, "dopplergram")
    incomplete = {k: v for k, v in header.items() if k != "DSUN_OBS"}
    with pytest.raises(HeaderGeometryError, match="DSUN_OBS"):
        render(incomplete, "aia", region=(slice(0, 4), slice(0, 4)), active_regions=[])


def test_noaa_like_regions_are_adapted():
    header, _ = sdo_like_header()
    small = dict(header, NAXIS1=256, NAXIS2=256, CDELT1=9.6, CDELT2=9.6, CRPIX1=128.5, CRPIX2=128.5)
    noaa_like = SimpleNamespace(number=11967, lat=-10.0, carr_lon=observer_l0(header) + 370.0, area=600.0)
    (spec,) = region_specs([noaa_like])
    assert spec.carr_lon == pytest.approx((observer_l0(header) + 10.0) % 360)
    assert 1.5 < spec.sigma_deg < 2.5  # a 600 MSH region
    with_region = render(small, "aia", active_regions=[noaa_like])
    without = render(small, "aia", active_regions=[])
    assert (with_region - without).max() > 2 * without.max()
