"""
==========================================
AIA wavelengths co-aligned with HMI
==========================================

The corona seen by AIA sits on the magnetic field seen by HMI, so one often wants the same
patch of the Sun in several AIA wavelengths and in an HMI magnetogram. With
``a.jsoc_cutout.CoalignedSeries`` every series gets the same centre, reference time and
angular box, and the maps' WCS does the rest: here the magnetogram's contours are drawn over
four AIA wavelengths of NOAA 11967.
"""
# sphinx_gallery_tags = ["AIA", "HMI", "Co-alignment", "Active Regions", "Fido", "Emulator"]

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import astropy.units as u

import sunpy.map
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
# One minute sampled once, four AIA wavelengths and HMI's line-of-sight magnetogram, a 400"
# box centred on NOAA 11967 (looked up in JSOC's NOAA series). The box must be
# angular, because AIA and HMI pixels differ in size.

query = (
    a.Time("2014-02-05 08:00", "2014-02-05 08:01"),
    a.jsoc_cutout.CoalignedSeries("aia.lev1_euv_12s", "hmi.M_45s"),
    a.jsoc_cutout.Wavelengths(171 * u.AA, 193 * u.AA, 211 * u.AA, 304 * u.AA),
    a.jsoc_cutout.ActiveRegion(11967, 400 * u.arcsec),
    a.Sample(1 * u.h),  # one frame of each series
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
hmi = next(m for m in maps if m.instrument.startswith("HMI"))
aia = sorted((m for m in maps if m.instrument.startswith("AIA")), key=lambda m: m.wavelength)
print(f"HMI: {hmi.dimensions.x:.0f} x {hmi.dimensions.y:.0f} at {hmi.scale.axis1:.2f}")
for smap in aia:
    print(f"{smap.name}: {smap.dimensions.x:.0f} x {smap.dimensions.y:.0f} at {smap.scale.axis1:.2f}")

###############################################################################
# Each AIA cutout on its own axes, with the magnetogram's ±100 G contours
# (red positive, blue negative) drawn through the maps' coordinates.

fig = plt.figure(figsize=(11, 9.5), layout="constrained")
fig.suptitle(f"NOAA 11967, {hmi.date.strftime('%Y-%m-%d %H:%M')} UTC: AIA with HMI contours")
for i, smap in enumerate(aia):
    ax = fig.add_subplot(2, 2, i + 1, projection=smap)
    smap.plot(axes=ax)
    hmi.draw_contours([-100, 100] * u.G, axes=ax, colors=["blue", "red"], linewidths=1)

###############################################################################
# And the magnetogram itself, in the same box.

fig = plt.figure(figsize=(5.5, 5))
ax = fig.add_subplot(projection=hmi)
hmi.plot_settings["norm"] = plt.Normalize(-500, 500)
hmi.plot(axes=ax, cmap="gray", title=f"HMI line-of-sight field, {hmi.date.strftime('%H:%M')} UTC")
fig.colorbar(ax.images[0], ax=ax, label="B (G)")

plt.show()
