"""
A fetch whose failed downloads are then retried by Fido (``Fido.fetch(files)``), in its own
process so that tests can SIGKILL it mid-retry: argv = url ledger out method.

Writes ``RETRYING <n>`` on stdout (flushed) once the client's fetch returned its ``n`` error
entries and Fido's retry starts.
"""

import sys

from fetch_job import QUERY

from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import conf, use_jsoc

if __name__ == "__main__":
    url, ledger, out, method = sys.argv[1:5]
    with (
        use_jsoc(url),
        conf.set_temp("ledger", ledger),
        conf.set_temp("min_poll", 0.2),
        conf.set_temp("download_retries", 0),
    ):
        files = Fido.fetch(Fido.search(*QUERY, jc.Method(method)), path=out + "/{file}", progress=False)
        sys.stdout.write(f"RETRYING {len(files.errors)}\n")
        sys.stdout.flush()
        files = Fido.fetch(files, max_conn=1, progress=False)
    sys.stdout.write(f"FILES {len(files)} ERRORS {len(files.errors)}\n")
