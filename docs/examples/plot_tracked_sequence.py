"""
===============================
A tracked cutout movie
===============================

A box tracked at the Carrington rate follows a patch of the Sun as it rotates, so a sequence
of cutouts is a movie of one region rather than of a fixed piece of sky. Here we fetch four
hours of AIA 171 Å cutouts of NOAA 11967, one every 30 minutes, and show them as a montage
and as an animation.
"""
# sphinx_gallery_tags = ["AIA", "Tracking", "Animation", "Fido", "Emulator"]

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
# Start an emulated JSOC with a registered address. Small full-disk images
# (``image_size``; 4096 on the real JSOC) keep the example quick.

email = "you@example.org"
emulator = JSOCEmulator(image_size=512, registered=[email]).start()
workdir = Path(tempfile.mkdtemp())

###############################################################################
# The box is 300" wide, centred on Carrington longitude 117°, latitude -12°
# (NOAA 11967 on 2014-02-05), and tracked. ``Fido.search`` prints the export
# plan: one ``im_patch`` request of nine records.

query = (
    a.Time("2014-02-05 08:00", "2014-02-05 12:00"),
    a.jsoc.Series("aia.lev1_euv_12s"),
    a.Wavelength(171 * u.AA),
    a.jsoc_cutout.Box.carrington(117 * u.deg, -12 * u.deg, 300 * u.arcsec),
    a.jsoc_cutout.Tracking(True),
    a.Sample(30 * u.min),
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

###############################################################################
# The files open as a `~sunpy.map.MapSequence`. Every map has its own WCS: the
# box moved across the detector, but the region stays in the middle of it.

sequence = sunpy.map.Map(sorted(files), sequence=True)
for smap in sequence[:4]:
    centre = smap.center.transform_to("heliographic_carrington")
    print(
        f"{smap.date.isot[:16]}: box centre at Tx={smap.center.Tx:.0f}, Ty={smap.center.Ty:.0f}, "
        f"Carrington lon={centre.lon:.2f}, lat={centre.lat:.2f}"
    )

###############################################################################
# The Carrington longitude wobbles by a few hundredths of a degree: without
# ``a.jsoc_cutout.Register(True)``, ``im_patch`` cuts whole pixels, so the box
# jumps by up to a pixel from frame to frame.

###############################################################################
# A montage of all nine frames, each on its own helioprojective axes (the
# tick labels change from frame to frame: the box moves west).

fig = plt.figure(figsize=(9, 9.6), layout="constrained")
fig.suptitle("AIA 171 Å, tracked at the Carrington rate")
for i, smap in enumerate(sequence):
    ax = fig.add_subplot(3, 3, i + 1, projection=smap)
    smap.plot(axes=ax, title=smap.date.strftime("%H:%M UTC"))
    ax.coords[0].set_axislabel("Solar-X" if i >= 6 else " ")
    ax.coords[1].set_axislabel("Solar-Y" if i % 3 == 0 else " ")

###############################################################################
# And the whole sequence as an animation (`~sunpy.map.MapSequence.plot`).

fig = plt.figure(figsize=(5, 5))
ax = fig.add_subplot(projection=sequence[0])
animation = sequence.plot(axes=ax, interval=300)

plt.show()
