"""
==========================================
An active region from limb to limb
==========================================

An active region takes about two weeks to cross the disk. With
``Tracking(start="east_limb", stop="west_limb")`` the client works out when the region's
centre crosses each limb and asks ``im_patch`` for exactly that run, and with
``a.jsoc_cutout.ActiveRegion`` it finds the region in JSOC's NOAA series. Here NOAA 11967 is
followed across the disk in January and February 2014, one AIA 171 Å cutout a day.
"""
# sphinx_gallery_tags = ["AIA", "Tracking", "Active Regions", "Fido", "Emulator"]

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.visualization import AsinhStretch, ImageNormalize

import sunpy.map
from sunpy.coordinates import SphericalScreen
from sunpy.net import Fido
from sunpy.net import attrs as a

import sunpy_jsoc_cutout  # noqa: F401  (registers a.jsoc_cutout with Fido)
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.testing import JSOCEmulator

###############################################################################
# Start an emulated JSOC with a registered address.

email = "you@example.org"
emulator = JSOCEmulator(image_size=512, registered=[email]).start()
workdir = Path(tempfile.mkdtemp())

###############################################################################
# No ``a.Time``: the limb crossings set the time range. The export plan shows
# the run the client computed (``t_start``, ``t_stop``) and the region's
# Stonyhurst position at its central-meridian passage (``x``, ``y``, ``t_ref``).

query = (
    a.jsoc.Series("aia.lev1_euv_12s"),
    a.Wavelength(171 * u.AA),
    a.jsoc_cutout.ActiveRegion(11967, 300 * u.arcsec),
    a.jsoc_cutout.Tracking(True, start="east_limb", stop="west_limb"),
    a.Sample(1 * u.day),
    a.jsoc.Notify(email),
)
with (
    use_jsoc(emulator.url),
    conf.set_temp("ledger", str(workdir / "ledger.sqlite")),
    conf.set_temp("min_poll", 0.2),  # the emulator is quick; keep the default for the real JSOC
):
    result = Fido.search(*query)
    print("\n".join(result["jsoccutout"].plan_lines()))
    files = Fido.fetch(result, path=workdir / "{file}", progress=False)
emulator.stop()

maps = sunpy.map.Map(sorted(files))
print(f"{len(maps)} cutouts from {maps[0].date.isot[:16]} to {maps[-1].date.isot[:16]}")

###############################################################################
# The track: each cutout's box, drawn on the disk as SDO saw it half-way
# through the run. The box is a fixed number of pixels, so near the limbs it
# covers more of the foreshortened surface.

middle = maps[len(maps) // 2]
centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=middle.coordinate_frame)
disk = sunpy.map.Map(
    np.zeros((64, 64)), sunpy.map.make_fitswcs_header((64, 64), centre, scale=[34, 34] * u.arcsec / u.pix)
)

fig = plt.figure(figsize=(6.5, 6.5))
ax = fig.add_subplot(projection=disk)
disk.plot(axes=ax, cmap="binary", vmin=0, vmax=1, title=f"NOAA 11967 as seen on {middle.date.strftime('%Y-%m-%d')}")
disk.draw_limb(axes=ax, color="k")
disk.draw_grid(axes=ax, grid_spacing=15 * u.deg, color="grey", linewidth=0.5)
first, last = maps[0].date.strftime("%m-%d %H:%M"), maps[-1].date.strftime("%m-%d %H:%M")
ax.text(0.02, 0.02, f"{first} (purple) to {last} (yellow) UTC", transform=ax.transAxes)
colours = plt.cm.viridis(np.linspace(0, 1, len(maps)))
# near the limbs a box's corners are off the disk: put them on a sphere through the limb to draw them
with SphericalScreen(disk.observer_coordinate, only_off_disk=True):
    for smap, colour in zip(maps, colours, strict=True):
        disk.draw_quadrangle(
            smap.bottom_left_coord, top_right=smap.top_right_coord, axes=ax, edgecolor=colour, linewidth=1
        )
        ax.plot_coord(smap.center, "o", color=colour, markersize=3)

###############################################################################
# Every second day, on one brightness scale: the region appears at the east limb, crosses the
# central meridian around 3 February and sets at the west limb.

picks = maps[::2]
vmin, vmax = np.nanpercentile(np.concatenate([m.data.ravel() for m in picks]), [1, 99.5])
fig = plt.figure(figsize=(14, 2.8), layout="constrained")
for i, smap in enumerate(picks):
    ax = fig.add_subplot(1, len(picks), i + 1, projection=smap)
    smap.plot_settings["norm"] = ImageNormalize(vmin=vmin, vmax=vmax, stretch=AsinhStretch(0.05))
    smap.plot(axes=ax, title=smap.date.strftime("%m-%d %H:%M"))
    ax.coords[0].set_ticklabel_visible(False)
    ax.coords[1].set_ticklabel_visible(False)
    ax.coords[0].set_axislabel(" ")
    ax.coords[1].set_axislabel(" ")

plt.show()
