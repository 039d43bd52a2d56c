"""Staging in a thread of its own: polls go on while files download, and the caller can stop it."""

import threading
import time

import pytest

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout._transfer.staging_thread import StagingThread


def test_outcomes_arrive_in_order_and_an_error_reaches_the_caller():
    def make(sleep):
        def outcomes():
            yield 1
            sleep(0.01)
            yield 2
            raise ValueError("JSOC said no")

        return outcomes()

    seen = []
    with pytest.raises(ValueError, match="JSOC said no"), StagingThread(make) as staged:
        seen.extend(staged)
    assert seen == [1, 2]


def test_close_ends_a_pause_at_once_and_the_generator_is_closed():
    closed = threading.Event()

    def make(sleep):
        def outcomes():
            try:
                yield "first"
                sleep(3600)  # JSOC still staging
                yield "never"
            finally:
                closed.set()

        return outcomes()

    staged = StagingThread(make)
    assert next(iter(staged)) == "first"
    start = time.monotonic()
    staged.close()
    assert time.monotonic() - start < 2
    assert closed.is_set()


def test_a_request_is_found_complete_while_the_previous_one_downloads(jsoc, email, tmp_path):
    """Three requests (one per wavelength on aia.lev1); each download lasts seconds. The next request's
    completion is seen, and the one after it submitted, before the previous download has finished."""
    query = (
        a.Time("2014-02-05 08:00", "2014-02-05 08:03"),
        a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA, 304 * u.AA),
        jc.Box([0, 0] * u.arcsec, 300 * u.arcsec),
        a.Sample(60 * u.s),
        a.jsoc.Notify(email),
    )
    result = Fido.search(*query)
    assert len(result["jsoccutout"].plans) == 3
    jsoc.download_bandwidth = 20000.0  # bytes/s: a 14.4 kB cutout takes 0.7 s, three of them 2.2 s
    try:
        files = Fido.fetch(result, path=tmp_path / "out" / "{file}", progress=False)
    finally:
        jsoc.download_bandwidth = None
    assert not files.errors
    log = list(jsoc.request_log)
    requests = jsoc.exports.state()["requests"]
    done_polls = {
        e["params"]["requestid"]: e["index"]
        for e in log
        if e["endpoint"] == "jsoc_fetch" and e["params"].get("op") == "exp_status" and str(e.get("jsoc_status")) == "0"
    }
    first_dir = requests[0]["dir"]
    last_get_of_first = max(e["index"] for e in log if e["endpoint"] == "files" and first_dir in e["path"])
    assert done_polls[requests[1]["requestid"]] < last_get_of_first
