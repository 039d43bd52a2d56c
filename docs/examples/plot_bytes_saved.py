"""
===========================================
What cutting out saves
===========================================

A full-disk AIA image is 4096 x 4096 pixels, about 10 MB even compressed, and most studies
need only a small part of it. Exporting cutouts makes JSOC send only that part. Here the same
AIA 171 Å records are fetched twice from an emulated JSOC: as full-disk files with sunpy's own
JSOC client, and as ``im_patch`` cutouts of three sizes with this package; the file sizes are
compared, and turned into the time a large request takes.
"""
# sphinx_gallery_tags = ["AIA", "Fido", "Emulator", "Data size"]

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import astropy.units as u
from astropy.io import fits

from sunpy.net import Fido
from sunpy.net import attrs as a

import sunpy_jsoc_cutout  # noqa: F401  (registers a.jsoc_cutout with Fido)
from sunpy_jsoc_cutout.config import conf, use_jsoc
from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.exports.timemodel import REALISTIC

###############################################################################
# Start an emulated JSOC. Its full-disk images are 1024 pixels on a side here
# (a quarter of the real ones, to keep the example quick); the cutout boxes are
# angular, so both shrink by the same factor and their ratio is the real one.

email = "you@example.org"
image_size = 1024
emulator = JSOCEmulator(image_size=image_size, registered=[email]).start()
workdir = Path(tempfile.mkdtemp())
records = (
    a.Time("2014-02-05 08:00", "2014-02-05 09:00"),
    a.jsoc.Series("aia.lev1_euv_12s"),
    a.Wavelength(171 * u.AA),
    a.Sample(10 * u.min),
    a.jsoc.Notify(email),
)

###############################################################################
# Full-disk files, with sunpy's stock JSOC client (``use_for_drms_jsoc``
# points it at the emulator). Only the ``image`` segment is asked for.

with emulator.use_for_drms_jsoc():
    result = Fido.search(*records, a.jsoc.Segment("image"))
    full_disk = Fido.fetch(result, path=workdir / "full" / "{file}", progress=False, sleep=0.5)

###############################################################################
# Cutouts of the same records: boxes 100", 300" and 600" wide on NOAA 11967,
# tracked. One search and fetch per box size.

widths = [100, 300, 600] * u.arcsec
cutouts = {}
with (
    use_jsoc(emulator.url),
    conf.set_temp("ledger", str(workdir / "ledger.sqlite")),
    conf.set_temp("min_poll", 0.2),  # the emulator is quick; keep the default for the real JSOC
):
    for width in widths:
        box = a.jsoc_cutout.Box.carrington(117 * u.deg, -12 * u.deg, width)
        result = Fido.search(*records, box)
        folder = workdir / f"box{width.value:.0f}"
        cutouts[width.value] = Fido.fetch(result, path=folder / "{file}", progress=False)
emulator.stop()

###############################################################################
# File sizes per record (``T_REC`` from each header, so that the same records
# are compared), and how each kind of file is stored:


def sizes_by_record(files):
    return {fits.getheader(f, ext=-1)["T_REC"][:16]: Path(f).stat().st_size for f in files}


full = sizes_by_record(full_disk)
boxes = {w: sizes_by_record(files) for w, files in cutouts.items()}
common = sorted(set(full).intersection(*boxes.values()))
mean_full = np.mean([full[t] for t in common])
mean_box = {w: np.mean([b[t] for t in common]) for w, b in boxes.items()}
print(f"{len(common)} records in common; full disk {mean_full / 1e3:.0f} kB per file")
for w, size in mean_box.items():
    print(f'{w:.0f}" box: {size / 1e3:.1f} kB per file, {mean_full / size:.1f} times smaller')
for name, files in [("full disk", full_disk), ('300" box', cutouts[300])]:
    with fits.open(files[0]) as hdus:
        hdu = hdus[-1]
        kind = "Rice-compressed" if isinstance(hdu, fits.CompImageHDU) else "uncompressed"
        print(f"{name}: {hdu.data.shape[1]} x {hdu.data.shape[0]} pixels of {hdu.data.dtype}, {kind}")

###############################################################################
# Bytes per file, and time for the JSOC export guide's full request (8 hours
# of four wavelengths at one frame a minute: 1920 files) at the real image size
# (16 times the pixels of these images). The time is the emulator's realistic
# time model, made from JSOC's published and measured figures: processing
# (0.35 s per exported file, plus 1.5 s per record for ``im_patch``) and
# downloading at about 4 MB/s per connection. Cutting out always saves bytes
# and download time; ``im_patch`` costs JSOC processing time per record, so
# whether the whole request finishes sooner depends on the box size and on the
# link: the slower the download, the more a cutout saves.

labels = ["full disk"] + [f'{w:.0f}" box' for w in mean_box]
colours = ["grey", "C0", "C1", "C2"]
per_file = np.array([mean_full, *mean_box.values()])
guide_files = 8 * 60 * 4
real_bytes = per_file * (4096 / image_size) ** 2 * guide_files
processing = np.array(
    [REALISTIC.processing_time(guide_files, guide_files)]
    + [REALISTIC.processing_time(guide_files, guide_files, ["im_patch"])] * len(mean_box)
)
downloading = real_bytes / REALISTIC.bandwidth

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
bars = ax1.bar(labels, per_file / 1e3, color=colours)
ax1.bar_label(bars, fmt="%.0f kB")
ax1.set_yscale("log")
ax1.set_ylabel(f"kB per file ({image_size} x {image_size} full-disk images)")
ax1.set_title("Measured: one AIA 171 Å file from the emulator")

ax2.bar(labels, processing / 60, color="lightgrey", edgecolor="k", label="JSOC processing")
bars = ax2.bar(labels, downloading / 60, bottom=processing / 60, color=colours, edgecolor="k", label="download")
ax2.bar_label(
    bars,
    labels=[f"{t / 60:.0f} min, {b / 1e9:.1f} GB" for t, b in zip(processing + downloading, real_bytes, strict=True)],
)
ax2.set_ylabel("minutes")
ax2.set_title("The guide's 1920 files, 4096² images")
ax2.set_ylim(0, 1.3 * ((processing + downloading) / 60).max())
ax2.legend(loc="upper center", ncols=2)

plt.show()
