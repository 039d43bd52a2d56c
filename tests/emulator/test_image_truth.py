"""
Image truth end to end: full-disk files exported by drms from the emulator (``url``/``fits``),
opened with `sunpy.map.Map`, agree with `sunpy.coordinates`.

Images are 1024 x 1024 (a quarter of JSOC's 4096: 2.40"/px for AIA, 2.02"/px for HMI), so "within
one pixel" is a 2-2.4 arcsec criterion. The record time, 2014-02-05 08:00, has NOAA regions well
inside the disk in both hemispheres (11964 north-east, 11962 south-west). Expected positions are
computed by sunpy from the catalogue (region at the image's ``T_OBS``, Carrington frame) and an
observer built from the ephemeris module, never from the file's observer keywords; the map's WCS
contributes only the pointing (``CRPIX``, ``CDELT``, ``CROTA2``).
"""

import numpy as np
import pytest
from scipy import ndimage

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time

import sunpy.map
from sunpy.coordinates import frames, get_earth

from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.sun import ephemeris, noaa
from sunpy_jsoc_cutout.testing.sun.render import render
from sunpy_jsoc_cutout.testing.sun.sungeometry import CRLN_OBS_OFFSET, jsoc_crln_obs

EMAIL = "user@example.com"
IMAGE_SIZE = 1024
AIA = "aia.lev1_euv_12s[2014-02-05T08:00:00Z/12s][171]{image}"
HMI = "hmi.Ic_45s[2014.02.05_08:00:00_TAI]{continuum}"
NORTH, SOUTH = 11964, 11962
RSUN = 696_000 * u.km
DRMS_EPOCH = Time("1977-01-01T00:00:00", scale="tai")
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def _export(client, spec, directory):
    request = client.export(spec, method="url", protocol="fits")
    assert request.wait(sleep=0)
    (path,) = request.download(directory).download
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The AIA 171 and HMI continuum files, exported with drms and downloaded."""
    import drms  # noqa: PLC0415

    directory = tmp_path_factory.mktemp("image_truth")
    with pytest.MonkeyPatch.context() as mp:
        for name in PROXIES:
            mp.delenv(name, raising=False)
        with JSOCEmulator(
            time_model="fast", image_size=IMAGE_SIZE, registered=(EMAIL,), root=directory / "sums"
        ) as emu:
            client = drms.Client(server=emu.server_config, email=EMAIL)
            return {"aia": _export(client, AIA, directory), "hmi": _export(client, HMI, directory)}


def _obs_time(header) -> Time:
    """``T_OBS`` parsed with astropy: ISO with ``Z`` (AIA) or DRMS ``_TAI`` (HMI)."""
    text = header["T_OBS"]
    if text.endswith("_TAI"):
        date, _, clock = text[:-4].partition("_")
        return Time(date.replace(".", "-") + "T" + clock, scale="tai")
    return Time(text.rstrip("Z"), scale="utc")


def _tai_seconds(time: Time) -> float:
    return float((time.tai - DRMS_EPOCH).to_value(u.s))


def _ephemeris_observer(time: Time) -> SkyCoord:
    eph = ephemeris.observer_keywords(_tai_seconds(time))
    return SkyCoord(
        eph["HGLN_OBS"][0] * u.deg,
        eph["HGLT_OBS"][0] * u.deg,
        eph["DSUN_OBS"][0] * u.m,
        frame=frames.HeliographicStonyhurst,
        obstime=time,
    )


def _expected_pixel(smap, number: int, region_time: Time, observer: SkyCoord) -> np.ndarray:
    """Pixel (x, y) sunpy gives for region ``number`` as it is at ``region_time``, seen by ``observer``
    at the observer's time; the map's WCS is used only for the pointing (same-frame conversion)."""
    region = noaa.region(number, _tai_seconds(region_time))
    assert region is not None, f"region {number} does not exist at {region_time}"
    surface = SkyCoord(
        region.carr_lon * u.deg,
        region.lat * u.deg,
        RSUN,
        frame=frames.HeliographicCarrington,
        observer=observer,
        obstime=observer.obstime,
    )
    hpc = surface.transform_to(frames.Helioprojective(observer=observer, obstime=observer.obstime))
    as_map = SkyCoord(hpc.Tx, hpc.Ty, frame=smap.coordinate_frame)
    return np.array(smap.wcs.world_to_pixel(as_map), dtype=float)


def _region_image(path, kind: str) -> tuple[np.ndarray, fits.Header]:
    """The file's pixels less a render of the same header without active regions: the regions alone."""
    with fits.open(path) as hdus:
        header = hdus[1].header
        data = hdus[1].data.astype(float)
    # the same quiet Sun: seen from the true Carrington longitude (aia.lev1_euv_12s has no
    # CALVER keyword, so its CRLN_OBS keeps JSOC's offset and would misplace the network)
    observer = sunpy.map.Map(path).observer_coordinate
    true_l0 = observer.transform_to(frames.HeliographicCarrington(observer="self", obstime=observer.obstime)).lon
    background = render(dict(header, _CRLN_TRUE=true_l0.to_value(u.deg)), kind, active_regions=[])
    return np.nan_to_num(data - background), header


def _feature_centroids(image: np.ndarray, threshold: float) -> np.ndarray:
    """Weighted centroids (x, y) of the connected features above ``threshold``."""
    labels, count = ndimage.label(image > threshold)
    centres = ndimage.center_of_mass(np.where(labels > 0, image, 0.0), labels, range(1, count + 1))
    return np.array([(x, y) for y, x in centres])


def _nearest(centroids: np.ndarray, point: np.ndarray) -> float:
    return float(np.min(np.hypot(*(centroids - point).T)))


@pytest.mark.parametrize(("instrument", "kind", "sign"), [("aia", "aia", 1.0), ("hmi", "continuum", -1.0)])
def test_region_centroid_is_where_sunpy_puts_the_catalogue_position(files, instrument, kind, sign):
    image, header = _region_image(files[instrument], kind)
    image *= sign  # a sunspot is dark
    centroids = _feature_centroids(image, 0.05 * image.max())
    smap = sunpy.map.Map(files[instrument])
    t_obs = _obs_time(header)
    observer = _ephemeris_observer(t_obs)
    for number in (NORTH, SOUTH):
        assert _nearest(centroids, _expected_pixel(smap, number, t_obs, observer)) < 1.0
        # Negative control: the Sun as seen at 00:00 UTC (NOAA's daily report time) is ~8 h of rotation away.
        report_time = Time(t_obs.utc.iso[:10])
        assert _nearest(centroids, _expected_pixel(smap, number, report_time, _ephemeris_observer(report_time))) > 5.0


@pytest.mark.parametrize("instrument", ["aia", "hmi"])
def test_header_observer_is_sdo_from_the_ephemeris_not_earth(files, instrument):
    header = fits.getheader(files[instrument], 1)
    t_obs = _obs_time(header)
    expected = _ephemeris_observer(t_obs)
    observer = sunpy.map.Map(files[instrument]).observer_coordinate
    if instrument == "aia":
        in_header = SkyCoord(
            header["HGLN_OBS"] * u.deg,
            header["HGLT_OBS"] * u.deg,
            header["DSUN_OBS"] * u.m,
            frame=frames.HeliographicStonyhurst,
            obstime=t_obs,
        )
        # The map's observer is the header's (sunpy reads HGLN_OBS/HGLT_OBS for AIA).
        assert observer.separation_3d(expected) < 1 * u.km
    else:  # real HMI series have no HGLN_OBS/HGLT_OBS: the observer is CRLN_OBS/CRLT_OBS/DSUN_OBS
        assert "HGLN_OBS" not in header
        assert "HGLT_OBS" not in header
        carrington = frames.HeliographicCarrington(observer="self", obstime=t_obs)
        in_header = SkyCoord(
            jsoc_crln_obs(header) * u.deg, header["CRLT_OBS"] * u.deg, header["DSUN_OBS"] * u.m, frame=carrington
        )
        # sunpy takes CRLN_OBS as it is: JSOC's 0.0818941 deg offset (CALVER64 bit 28 unset) stays in it
        assert not header["CALVER64"] & (1 << 28)
        map_lon = observer.transform_to(carrington).lon - expected.transform_to(carrington).lon
        assert map_lon.to_value(u.deg) == pytest.approx(CRLN_OBS_OFFSET, abs=1e-3)
    # a Carrington longitude gives the observer only to sunpy's light-time convention (~1e-4 deg)
    assert in_header.separation_3d(expected) < (1 * u.km if instrument == "aia" else 500 * u.km)
    # SDO is measurably not at Earth (geosynchronous orbit).
    assert get_earth(t_obs).separation_3d(expected) > 30_000 * u.km
    rsun_obs = np.rad2deg(np.arcsin((RSUN / expected.radius).decompose().value)) * 3600
    assert header["RSUN_OBS"] == pytest.approx(rsun_obs, abs=1e-3)


def _disk_radius_hmi(path) -> float:
    """Radius (px) of the disk from the area of the on-disk (finite) pixels."""
    data = sunpy.map.Map(path).data
    return float(np.sqrt(np.isfinite(data).sum() / np.pi))


def _circle_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares circle (Kasa): centre x, centre y, radius."""
    design = np.column_stack([x, y, np.ones_like(x)])
    (a, b, c), *_ = np.linalg.lstsq(design, x * x + y * y, rcond=None)
    return a / 2, b / 2, float(np.sqrt(c + a * a / 4 + b * b / 4))


def _disk_radius_aia(path) -> float:
    """Radius (px) of a circle fitted to the limb: along 720 rays from the image centre, the
    steepest fall of the intensity; rays where a bright region's flank wins are rejected as outliers."""
    data = sunpy.map.Map(path).data.astype(float)
    angles = np.linspace(0, 2 * np.pi, 720, endpoint=False)[:, None]
    radii = np.arange(0.3, 0.49, 0.25 / data.shape[0]) * data.shape[0]  # 0.3-0.49 of the width, 1/4 px steps
    x = (data.shape[1] - 1) / 2 + radii * np.cos(angles)
    y = (data.shape[0] - 1) / 2 + radii * np.sin(angles)
    profiles = ndimage.map_coordinates(data, [y, x], order=1)
    edge = np.argmin(np.diff(profiles, axis=1), axis=1)
    ex, ey = (x[:, :-1] + x[:, 1:]) / 2, (y[:, :-1] + y[:, 1:]) / 2
    ex, ey = ex[np.arange(len(edge)), edge], ey[np.arange(len(edge)), edge]
    keep = np.ones(ex.shape, bool)
    for _ in range(3):
        cx, cy, radius = _circle_fit(ex[keep], ey[keep])
        keep = np.abs(np.hypot(ex - cx, ey - cy) - radius) < 1.0
    assert keep.mean() > 0.8  # the limb, not the regions, was found on most rays
    return radius


@pytest.mark.parametrize(("instrument", "measure"), [("aia", _disk_radius_aia), ("hmi", _disk_radius_hmi)])
def test_limb_radius_in_pixels_is_rsun_obs_over_cdelt(files, instrument, measure):
    header = fits.getheader(files[instrument], 1)
    measured = measure(files[instrument])
    assert measured == pytest.approx(header["RSUN_OBS"] / header["CDELT1"], abs=1.0)
    # Negative control: the Sun's size five months later (near aphelion) is several pixels smaller.
    later = ephemeris.observer_keywords(_tai_seconds(_obs_time(header)) + 150 * 86400.0)
    assert abs(measured - later["RSUN_OBS"][0] / header["CDELT1"]) > 5.0


def test_hmi_is_north_up_after_sunpy_rotation(files):
    image, header = _region_image(files["hmi"], "continuum")
    raw = sunpy.map.Map(-image, sunpy.map.Map(files["hmi"]).meta)  # spots as positive features
    assert abs(raw.meta["crota2"] - 180) < 1  # HMI's raw array is upside down
    rotated = raw.rotate(order=1)
    observer = _ephemeris_observer(_obs_time(header))
    pole = SkyCoord(0 * u.deg, 90 * u.deg, RSUN, frame=frames.HeliographicStonyhurst, obstime=observer.obstime)
    for smap, up in ((rotated, True), (raw, False)):  # the unrotated map is the negative control
        centre = np.array(smap.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=smap.coordinate_frame)))
        centroids = _feature_centroids(smap.data, 0.05 * np.nanmax(smap.data))
        found = {}
        for number in (NORTH, SOUTH):
            expected = _expected_pixel(smap, number, observer.obstime, observer)
            found[number] = centroids[np.argmin(np.hypot(*(centroids - expected).T))]
            assert np.hypot(*(found[number] - expected)) < 1.0
        # In the data: the northern region is above disk centre, the southern below; east (11964) left.
        assert (found[NORTH][1] > centre[1]) == up
        assert (found[SOUTH][1] < centre[1]) == up
        assert (found[NORTH][0] < centre[0]) == up
        # sunpy's north pole is straight up (its column is that of disk centre).
        pole_px = np.array(smap.wcs.world_to_pixel(pole.transform_to(smap.coordinate_frame)))
        assert (pole_px[1] - centre[1] > 0.95 * header["RSUN_OBS"] / header["CDELT1"]) == up
        assert abs(pole_px[0] - centre[0]) < 2.0
