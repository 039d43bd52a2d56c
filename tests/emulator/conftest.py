"""Shared set-up of the emulator's processing tests: a full-resolution emulator and im_patch exports."""

import drms
import pytest

from astropy.io import fits

import sunpy.map

EMAIL = "user@example.com"


@pytest.fixture(scope="session")
def emu4096(tmp_path_factory):
    """Full-resolution stored images (CDELT1 ~0.6"); cut-outs render only their own pixels."""
    from sunpy_jsoc_cutout.testing import JSOCEmulator  # noqa: PLC0415

    root = tmp_path_factory.mktemp("sums4096")
    with JSOCEmulator(time_model="fast", image_size=4096, registered=(EMAIL,), root=root) as emu:
        yield emu


def _export_maps(emu, spec, args, out_dir) -> list:
    """Run one im_patch export with drms; the cut-outs as sunpy maps, in file-name (time) order."""
    client = drms.Client(server=emu.server_config, email=EMAIL)
    request = client.export(spec, method="url", protocol="fits", process={"im_patch": args})
    request.wait(sleep=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    maps = []
    for path in sorted(request.download(out_dir).download):
        with fits.open(path) as hdul:
            maps.append(sunpy.map.Map(hdul[0].data.astype(float), hdul[0].header.copy()))
    return maps


@pytest.fixture(scope="session")
def export_maps():
    """``export_maps(emulator, spec, im_patch_args, out_dir) -> [map, ...]``."""
    return _export_maps
