"""
im_patch tracking and box location, measured on the emulator's synthetic Sun against positions
computed here with sunpy.coordinates: Carrington-rate tracking of a synthetic active region
(drift from differential rotation), untracked boxes, Carrington/Stonyhurst/arcsec locations,
degree boxes and the implicit limb-to-limb times of ``t_start``/``t_stop=NotSpecified``.
"""

import warnings

import numpy as np
import pytest
from erfa import ErfaWarning

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.time import Time

from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst, Helioprojective, sun
from sunpy.sun.models import differential_rotation

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.common.timeutil import parse_drms_time
from sunpy_jsoc_cutout.testing.processing.datatypes import StepContext
from sunpy_jsoc_cutout.testing.processing.im_patch import im_patch
from sunpy_jsoc_cutout.testing.sun.noaa import region
from sunpy_jsoc_cutout.testing.sun.render import render
from sunpy_jsoc_cutout.testing.sun.sungeometry import CRLN_OBS_OFFSET

AR = 11964  # latitude 30.4 N, near the central meridian on 2014-02-06 in the emulator's catalogue
START = "2014-02-06T00:00:00"
CARRINGTON_RATE = 14.1844 * u.deg / u.day


def true_l0(smap):
    """The observer's true Carrington longitude (from HGLN_OBS, as sunpy's AIA map has it)."""
    frame = HeliographicCarrington(observer="self", obstime=smap.date)
    return smap.observer_coordinate.transform_to(frame).lon.to_value(u.deg)


def excess_centroid(smap):
    """Centroid (x, y) of the active-region brightness: the cut-out minus the same sky without regions."""
    header = {k.upper(): v for k, v in smap.meta.items()}
    header["_CRLN_TRUE"] = true_l0(smap)  # CRLN_OBS of aia.lev1_euv_12s keeps JSOC's offset
    quiet = render(header, "aia", active_regions=())
    excess = smap.data - quiet
    excess[excess < 0.05 * np.nanmax(excess)] = 0.0
    y, x = np.indices(excess.shape)
    return np.array([(x * excess).sum(), (y * excess).sum()]) / excess.sum()


def carrington_pixel(smap, lon, lat):
    coord = SkyCoord(lon, lat, frame=carrington_frame(smap))
    return np.array([v.to_value(u.pix) for v in smap.world_to_pixel(coord)])


def pixels_of(maps, lon, lat):
    """Pixel (x, y) in each map of the Carrington point ``(lon[i], lat)``, one vectorised transform."""
    times = Time([m.date for m in maps])
    meta = [m.meta for m in maps]
    observer = SkyCoord(
        [h["hgln_obs"] for h in meta] * u.deg,
        [h["hglt_obs"] for h in meta] * u.deg,
        [h["dsun_obs"] for h in meta] * u.m,
        frame=HeliographicStonyhurst(obstime=times),
    )
    rsun = maps[0].rsun_meters
    point = SkyCoord(
        lon,
        np.full(lon.shape, lat.to_value(u.deg)) * u.deg,
        frame=HeliographicCarrington(observer=observer, obstime=times, rsun=rsun),
    )
    hpc = point.transform_to(Helioprojective(observer=observer, obstime=times))
    out = []
    for m, tx, ty in zip(maps, hpc.Tx, hpc.Ty, strict=True):
        units = m.wcs.wcs.cunit
        out.append(m.wcs.world_to_pixel_values(tx.to_value(units[0]), ty.to_value(units[1])))
    return np.array(out, dtype=float)


def carrington_frame(smap):
    """The map's Carrington frame, with the map's solar radius (RSUN_REF, not sunpy's default)."""
    return HeliographicCarrington(observer=smap.observer_coordinate, obstime=smap.date, rsun=smap.rsun_meters)


def drms_time(text):
    return Time(2443144.5, parse_drms_time(text) / 86400.0, format="jd", scale="tai")


def differential_drift(lat, dt):
    """Longitude change in the Carrington frame of a feature at ``lat`` after ``dt`` (Howard et al. 1990)."""
    return differential_rotation(dt, lat, model="howard", frame_time="sidereal") - CARRINGTON_RATE * dt


def region_start():
    t = parse_drms_time(START.replace("-", ".").replace("T", "_") + "_UTC")
    ar = region(AR, t)
    return ar.carr_lon * u.deg, ar.lat * u.deg


def car_rot_at(time):
    return int(sun.carrington_rotation_number(Time(time)))


def test_tracked_region_drifts_only_by_differential_rotation(emu4096, export_maps, tmp_path):
    lon0, lat = region_start()
    spec = f"aia.lev1_euv_12s[{START}Z/8h@10m][171]{{image}}"
    args = {"t": 0, "locunits": "carrlong", "car_rot": car_rot_at(START), "x": lon0.value, "y": lat.value}
    maps = export_maps(emu4096, spec, dict(args, boxunits="arcsec", width=200, height=200), tmp_path)
    assert len(maps) == 48
    t0 = maps[0].date
    measured = np.array([excess_centroid(m) for m in maps])
    dt = (Time([m.date for m in maps]) - t0).to(u.day)
    predicted = pixels_of(maps, lon0 + differential_drift(lat, dt), lat)
    # aia.lev1_euv_12s has no CALVER keyword, so im_patch keeps JSOC's +0.0818941 deg in CRLN_OBS
    # and tracks the true Carrington point lon0 - 0.0818941 deg (get_new_CRLN_OBS)
    centre = pixels_of(maps, np.full(len(maps), lon0.value - CRLN_OBS_OFFSET) * u.deg, lat)
    middle = (np.array(maps[0].data.shape[::-1]) - 1) / 2
    # the box follows that point (within the whole-pixel rounding of its corner), not lon0
    assert np.abs(centre - middle).max() <= 1.0
    assert np.abs(pixels_of(maps, np.full(len(maps), lon0.value) * u.deg, lat) - middle)[:, 0].min() > 1.5
    drift = (predicted - centre) - (predicted[0] - centre[0])
    assert np.abs(drift[-1, 0]) >= 3.0  # the region lags the Carrington rate by several pixels
    error = (measured - measured[0]) - (predicted - predicted[0])
    assert np.abs(error).max() < 0.5


def test_untracked_box_shows_the_full_rotation(emu4096, export_maps, tmp_path):
    lon0, lat = region_start()
    spec = f"aia.lev1_euv_12s[{START}Z/8h@10m][171]{{image}}"
    args = {"t": 1, "locunits": "carrlong", "car_rot": car_rot_at(START), "x": lon0.value, "y": lat.value}
    maps = export_maps(emu4096, spec, dict(args, boxunits="arcsec", width=400, height=150), tmp_path)
    assert len(maps) == 48
    t0 = maps[0].date
    measured = np.array([excess_centroid(m) for m in maps])
    predicted = pixels_of(maps, lon0 + differential_drift(lat, (Time([m.date for m in maps]) - t0).to(u.day)), lat)
    assert predicted[-1, 0] - predicted[0, 0] > 100.0  # ~4.7 degrees of rotation in 8 hours
    np.testing.assert_allclose(measured - measured[0], predicted - predicted[0], atol=0.5)


def centre_pixel(smap):
    return (np.array(smap.data.shape[::-1]) - 1) / 2


@pytest.mark.parametrize("locunits", ["carrlong", "stony", "arcsec"])
def test_registered_box_centre_is_the_requested_location(emu4096, export_maps, tmp_path, locunits):
    spec = "aia.lev1_euv_12s[2014-02-06T00:00:00Z/1h@30m][171]{image}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErfaWarning)
        l0 = sun.L0(Time(START)).to_value(u.deg)
    values = {"carrlong": (l0 + 10.0, -12.0), "stony": (25.0, -12.0), "arcsec": (-517.2, -246.0)}
    x, y = values[locunits]
    args = {"t": 0, "r": 1, "locunits": locunits, "x": x, "y": y, "boxunits": "pixels", "width": 64, "height": 48}
    if locunits == "carrlong":
        args["car_rot"] = car_rot_at(START)
    else:
        args["t_ref"] = START
    maps = export_maps(emu4096, spec, args, tmp_path)
    assert len(maps) == 2
    first = maps[0]
    # aia.lev1_euv_12s has no CALVER keyword: im_patch takes CRLN_OBS with JSOC's offset uncorrected
    if locunits == "carrlong":  # so a Carrington longitude lands CRLN_OBS_OFFSET west of the true one
        point = SkyCoord(
            (x - CRLN_OBS_OFFSET) * u.deg,
            y * u.deg,
            frame=HeliographicCarrington(observer=first.observer_coordinate, obstime=first.date),
        )
    elif locunits == "stony":  # degrees from the observer's central meridian
        obs = first.observer_coordinate.transform_to(HeliographicCarrington(observer="self", obstime=first.date))
        point = SkyCoord(
            obs.lon + x * u.deg,
            y * u.deg,
            frame=HeliographicCarrington(observer=first.observer_coordinate, obstime=first.date),
        )
    else:
        point = SkyCoord(x * u.arcsec, y * u.arcsec, frame=first.coordinate_frame).transform_to(carrington_frame(first))
    for smap in maps:  # tracked and registered: the point sits at the array centre in every frame
        here = carrington_pixel(smap, point.lon, point.lat)
        np.testing.assert_allclose(here, centre_pixel(smap), atol=0.1)
        # HGCRLN is im_patch's longitude, which exceeds the true one by the uncorrected offset
        assert smap.meta["hgcrln"] == pytest.approx((point.lon.to_value(u.deg) + CRLN_OBS_OFFSET) % 360, abs=0.01)
        assert smap.meta["hgcrlt"] == pytest.approx(point.lat.to_value(u.deg), abs=0.01)


def test_degree_box_is_the_box_projected_at_the_central_meridian(emu4096, export_maps, tmp_path):
    spec = "aia.lev1_euv_12s[2014-02-06T00:00:00Z/12s][171]{image}"
    width, height, lat = 10.0, 6.0, 20.0
    args = {
        "t": 0,
        "locunits": "stony",
        "x": 0,
        "y": lat,
        "t_ref": START,
        "boxunits": "degrees",
        "width": width,
        "height": height,
    }
    (smap,) = export_maps(emu4096, spec, args, tmp_path)
    obs = smap.observer_coordinate.transform_to(HeliographicCarrington(observer="self", obstime=smap.date))
    ur = carrington_pixel(smap, obs.lon + width / 2 * u.deg, (lat + height / 2) * u.deg)
    ll = carrington_pixel(smap, obs.lon - width / 2 * u.deg, (lat - height / 2) * u.deg)
    expected = (int(ur[1] - ll[1]) + 1, int(ur[0] - ll[0]) + 1)
    assert np.abs(np.array(smap.data.shape) - expected).max() <= 1
    assert smap.data.shape[1] > 250  # ~10 degrees of a 0.6" image


def limb_time(lon, guess, east):
    """When the Carrington longitude ``lon`` is 90 degrees east (west) of Earth's central meridian."""
    target = (lon + (90.0 if east else -90.0)) % 360.0
    t = Time(guess)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErfaWarning)
        for _ in range(6):  # Newton steps on L0(t) = target, L0 falling ~13.2 deg/day
            diff = (sun.L0(t).to_value(u.deg) - target + 180.0) % 360.0 - 180.0
            t = t + diff / 13.2 * u.day
    return t


def test_not_specified_times_run_from_east_to_west_limb():
    # A bare series or `[$]` with no t_start/t_stop (through an export jsoc_fetch rewrites `[$]`,
    # jsoc_fetch.c L3611-3663, so the step is driven directly here).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ErfaWarning)
        lon = sun.L0(Time(START)).to_value(u.deg) + 5.0
    args = {
        "locunits": "carrlong",
        "car_rot": str(car_rot_at(START)),
        "x": str(lon),
        "y": "10",
        "t": "0",
        "boxunits": "pixels",
        "width": "4",
        "height": "4",
        "cadence": "2h",
        "t_start": "NotSpecified",
        "t_stop": "NotSpecified",
    }
    context = StepContext("JSOC_TEST", Catalogue(), "", 256, "aia.lev1_euv_12s[$][171]{image}")
    items = im_patch([], args, context)
    east, west = limb_time(lon, START, east=True), limb_time(lon, START, east=False)
    header = items[0].header
    assert abs((drms_time(header["HGTSTART"]) - east).to_value(u.s)) <= 3600.0
    assert abs((drms_time(header["HGTSTOP"]) - west).to_value(u.s)) <= 3600.0
    assert (west - east).to_value(u.day) == pytest.approx(13.6, abs=0.3)
    first, last = items[0].header, items[-1].header
    for hdr, sign in ((first, -1), (last, 1)):
        frame = HeliographicStonyhurst(obstime=drms_time(hdr["T_OBS"]))
        point = SkyCoord(lon * u.deg, 10 * u.deg, frame=HeliographicCarrington(observer="earth", obstime=frame.obstime))
        assert point.transform_to(frame).lon.to_value(u.deg) == pytest.approx(sign * 90.0, abs=1.0)
    assert len(items) == pytest.approx((west - east).to_value(u.h) / 2 + 1, abs=1.5)
