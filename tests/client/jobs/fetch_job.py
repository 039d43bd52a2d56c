"""A fetch run in its own process (so that tests can SIGKILL it): argv = url ledger out min_poll."""

import sys

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import conf, use_jsoc

QUERY = (
    a.Time("2014-02-05 08:00", "2014-02-05 08:02"),
    a.jsoc.Series("aia.lev1"),
    jc.Wavelengths(171 * u.AA, 193 * u.AA),
    jc.Box.carrington(100 * u.deg, 10 * u.deg, 160 * u.pix, 160 * u.pix),
    a.jsoc.Notify("user@example.com"),
)

if __name__ == "__main__":
    url, ledger, out, min_poll = sys.argv[1:5]
    with use_jsoc(url), conf.set_temp("ledger", ledger), conf.set_temp("min_poll", float(min_poll)):
        files = Fido.fetch(Fido.search(*QUERY), path=out + "/{file}", progress=False)
    sys.stdout.write(f"FILES {len(files)} ERRORS {len(files.errors)}\n")
    sys.exit(1 if files.errors else 0)
