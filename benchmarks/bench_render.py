"""Start-to-end figures for the emulator's synthetic Sun renderer and FITS writer.

Run with ``python benchmarks/bench_render.py`` from the repository root (the package must be
importable). Prints wall times and file sizes; nothing is asserted.
"""

import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from sunpy_jsoc_cutout.testing.sun.fitsfiles import make_segment_file, reduce_header, write_segment_fits
from sunpy_jsoc_cutout.testing.sun.render import clear_cache, render

HEADER = {
    "TELESCOP": "SDO/AIA",
    "INSTRUME": "AIA_3",
    "WAVELNTH": 171,
    "WAVEUNIT": "angstrom",
    "T_OBS": "2014-02-05T08:00:00.57Z",
    "DATE-OBS": "2014-02-05T08:00:00.57",
    "CTYPE1": "HPLN-TAN",
    "CTYPE2": "HPLT-TAN",
    "CUNIT1": "arcsec",
    "CUNIT2": "arcsec",
    "NAXIS1": 4096,
    "NAXIS2": 4096,
    "CDELT1": 0.599489,
    "CDELT2": 0.599489,
    "CRPIX1": 2052.3,
    "CRPIX2": 2040.6,
    "CRVAL1": 0.0,
    "CRVAL2": 0.0,
    "CROTA2": 0.12,
    "DSUN_OBS": 1.4747e11,
    "RSUN_REF": 696000000.0,
    "HGLN_OBS": 0.008,
    "HGLT_OBS": -6.2,
    "CRLN_OBS": 113.4,
    "CRLT_OBS": -6.2,
    "CALVER64": 0,
}
AIA = SimpleNamespace(kind="aia", storage="int16", bscale=None, bzero=None, blank=-32768, cparms="compress Rice")
HMI = SimpleNamespace(
    kind="magnetogram", storage="int32", bscale=0.1, bzero=0.0, blank=-2147483648, cparms="compress Rice"
)


def timed(label, func):
    clear_cache()
    start = time.perf_counter()
    result = func()
    print(f"{label:<48s} {time.perf_counter() - start:7.2f} s")
    return result


def main():
    regions = [SimpleNamespace(number=1, lat=15.0, carr_lon=120.0), SimpleNamespace(number=2, lat=-20.0, carr_lon=90.0)]
    timed("render aia 4096x4096 full disk", lambda: render(HEADER, "aia", active_regions=regions))
    timed("render magnetogram 4096x4096 full disk", lambda: render(HEADER, "magnetogram", active_regions=regions))
    small = reduce_header(HEADER, 1024)
    timed("render aia 1024x1024 (reduced)", lambda: render(small, "aia", active_regions=regions))
    box = (slice(1700, 2277), slice(1300, 1877))
    timed("render aia 577x577 region of 4096x4096", lambda: render(HEADER, "aia", region=box, active_regions=regions))
    with tempfile.TemporaryDirectory() as tmp:
        for name, seg, size in (("aia", AIA, None), ("hmi", HMI, None), ("aia", AIA, 1024)):
            path = Path(tmp) / f"{name}_{size}.fits"
            label = f"render + write {name} {size or 4096}² Rice"
            nbytes = timed(
                label, lambda p=path, s=seg, n=size: make_segment_file(p, HEADER, s, size=n, active_regions=regions)
            )
            print(f"{'  file size':<48s} {nbytes / 1e6:7.2f} MB")
        data = render(HEADER, "aia", active_regions=regions)
        start = time.perf_counter()

        nbytes = write_segment_fits(Path(tmp) / "w.fits", HEADER, data, storage="int16")
        print(f"{'write only, aia 4096² Rice':<48s} {time.perf_counter() - start:7.2f} s  ({nbytes / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
