"""
=================================
Tracked and fixed boxes compared
=================================

A cutout box can stay fixed on the detector (``Tracking(False)``) or follow the Sun's rotation
(``Tracking(True)``). Over a few hours the difference is large: the Sun turns by about 0.55°
an hour, so a region near disk centre moves by some 8" an hour and walks out of a small fixed
box. Here the same 200" box, placed on NOAA 11967 at the start, is fetched both ways over
twelve hours.
"""
# sphinx_gallery_tags = ["AIA", "Tracking", "Fido", "Emulator"]

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord

import sunpy.map
from sunpy.coordinates import frames
from sunpy.net import Fido
from sunpy.net import attrs as a

import sunpy_jsoc_cutout  # noqa: F401  (registers a.jsoc_cutout with Fido)
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.testing import JSOCEmulator

###############################################################################
# Start an emulated JSOC and pick the box centre: NOAA 11967's Carrington point
# (117°, -12°) as seen from SDO at the start of the run.

email = "you@example.org"
emulator = JSOCEmulator(image_size=512, registered=[email]).start()
workdir = Path(tempfile.mkdtemp())

start = "2014-02-05 04:00"
region = SkyCoord(117 * u.deg, -12 * u.deg, frame=frames.HeliographicCarrington, observer="earth", obstime=start)
centre = region.transform_to(frames.Helioprojective(observer="earth", obstime=start))

###############################################################################
# Two queries that differ only in the tracking flag. The centre is a
# helioprojective `~astropy.coordinates.SkyCoord` at the start time, so both
# boxes start in the same place.


def fetch(tracking):
    query = (
        a.Time(start, "2014-02-05 16:00"),
        a.jsoc.Series("aia.lev1_euv_12s"),
        a.Wavelength(171 * u.AA),
        a.jsoc_cutout.Box(centre, 200 * u.arcsec),
        a.jsoc_cutout.Tracking(tracking),
        a.Sample(3 * u.h),
        a.jsoc.Notify(email),
    )
    with (
        use_jsoc(emulator.url),
        conf.set_temp("ledger", str(workdir / "ledger.sqlite")),
        conf.set_temp("min_poll", 0.2),  # the emulator is quick; keep the default for the real JSOC
    ):
        result = Fido.search(*query)
        folder = "tracked" if tracking else "fixed"
        files = Fido.fetch(result, path=workdir / folder / "{file}", progress=False)
    return sunpy.map.Map(sorted(files))


tracked = fetch(True)
fixed = fetch(False)
emulator.stop()


def region_point(smap):
    """NOAA 11967's Carrington point at the time of ``smap``, in its helioprojective frame."""
    point = SkyCoord(
        117 * u.deg,
        -12 * u.deg,
        frame=frames.HeliographicCarrington,
        observer=smap.observer_coordinate,
        obstime=smap.date,
    )
    return point.transform_to(smap.coordinate_frame)


###############################################################################
# Side by side, one column per time: the tracked box (top) keeps the region in
# the middle, the fixed box (bottom) sees it drift west (to the right). The
# white cross is the region's Carrington point at each time.

fig = plt.figure(figsize=(12, 5.6), layout="constrained")
fig.suptitle('AIA 171 Å, the same 200" box tracked (top) and fixed on the detector (bottom)')
for row, (label, maps) in enumerate([("tracked", tracked), ("fixed", fixed)]):
    for col, smap in enumerate(maps):
        ax = fig.add_subplot(2, len(maps), row * len(maps) + col + 1, projection=smap)
        smap.plot(axes=ax, title=f"{label}, {smap.date.strftime('%H:%M')}")
        ax.plot_coord(region_point(smap), "wx", markersize=12, markeredgewidth=2)
        ax.coords[0].set_ticklabel_visible(False)
        ax.coords[1].set_ticklabel_visible(False)
        ax.coords[0].set_axislabel(" ")
        ax.coords[1].set_axislabel(" ")

###############################################################################
# How far the region's point is from the box centre in each case:

for smap_t, smap_f in zip(tracked, fixed, strict=True):
    offsets = []
    for smap in (smap_t, smap_f):
        point = region_point(smap)
        offsets.append(np.hypot(point.Tx - smap.center.Tx, point.Ty - smap.center.Ty).to(u.arcsec))
    print(f"{smap_t.date.strftime('%H:%M')}: tracked box {offsets[0]:5.1f} off, fixed box {offsets[1]:5.1f} off")

plt.show()
