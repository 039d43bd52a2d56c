"""Many requests through Fido.fetch: one pending export at a time, downloads overlapping staging."""

import itertools

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout.config import conf


def test_single_block_many_requests_are_polite_and_pipelined(jsoc, email, tmp_path):
    query = (
        a.Time("2014-02-05 08:00", "2014-02-05 08:10"),
        a.jsoc.Series("aia.lev1"),
        jc.Wavelengths(171 * u.AA, 193 * u.AA, 304 * u.AA),
        jc.Box.carrington(100 * u.deg, 10 * u.deg, 20 * u.pix, 20 * u.pix),
        a.jsoc.Notify(email),
    )
    with conf.set_temp("record_limit_aia", 40):
        result = Fido.search(*query)
    table = result["jsoccutout"]
    assert len(table.plans) == 6  # three wavelengths (one per request on aia.lev1), 50 records each: 40 + 10
    files = Fido.fetch(result, path=tmp_path / "out" / "{file}")
    assert not files.errors
    assert len(files) == int((table["Skip"] == "").sum())

    requests = sorted(jsoc.exports.state()["requests"], key=lambda r: r["submitted"])
    assert len(requests) == 6
    assert all(r["state"] == "done" for r in requests)
    # JSOC's pending table never held two of ours: each was submitted after the one before completed
    for before, after in itertools.pairwise(requests):
        assert after["submitted"] >= before["completed_at"]
    assert all(e.get("jsoc_status") != 7 for e in jsoc.request_log if e["params"].get("op") == "exp_request")
    # some file of request k was downloaded while a later request was staging (emulator clock): the
    # staging thread polls and submits while files download, so that may be k+1 or one after it
    gets = [e for e in jsoc.request_log if e["endpoint"] == "files"]
    overlapped = 0
    for k, this in enumerate(requests[:-1]):
        mine = [e for e in gets if e["path"].startswith(this["dir"]) or this["dir"] in e["path"]]
        assert mine, f"no download seen for request {k}"
        later = requests[k + 1 :]
        if any(r["submitted"] <= e["time"] <= r["completed_at"] for e in mine for r in later):
            overlapped += 1
    assert overlapped == len(requests) - 1
    assert jsoc.connections.snapshot()["max_connections"] == 1
