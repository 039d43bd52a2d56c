"""The public calls behind a command line: list, re-download, re-stage and cancel by request ID."""

import ast
from pathlib import Path

import astropy.units as u

import sunpy.net.attrs as a
from sunpy.net import Fido

import sunpy_jsoc_cutout  # noqa: F401
from sunpy_jsoc_cutout import attrs as jc
from sunpy_jsoc_cutout import jobs
from sunpy_jsoc_cutout._jsoc.export import JSOCExportAPI, ReadyExport
from sunpy_jsoc_cutout._transfer.ledger import Ledger, request_key
from sunpy_jsoc_cutout.config import ledger_path

QUERY = (
    a.Time("2014-02-05 08:00", "2014-02-05 08:01"),
    a.jsoc.Series("aia.lev1_euv_12s"),
    a.Wavelength(171 * u.AA),
    jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec),
)


def file_gets(emulator):
    return [e for e in emulator.request_log if e["endpoint"] == "files" and e["method"] == "GET"]


def test_list_and_redownload_by_request_id(jsoc, email, tmp_path):
    files = Fido.fetch(Fido.search(*QUERY, a.jsoc.Notify(email)), path=tmp_path / "out" / "{file}")
    assert len(files) >= 5
    (entry,) = jobs.list_requests()
    assert entry.status == "complete"
    assert entry.params["ds"].startswith("aia.lev1_euv_12s[")
    assert jobs.list_requests("failed") == []
    # a lost file comes back; the others are not downloaded again
    lost = sorted(files)[0]
    Path(lost).unlink()
    before = len(file_gets(jsoc))
    again = jobs.download(entry.requestid, path=tmp_path / "out" / "{file}", progress=False)
    assert lost in list(map(str, again))
    assert len(file_gets(jsoc)) - before == 1


def test_restage_an_expired_request(jsoc, email, tmp_path):
    Fido.fetch(Fido.search(*QUERY, a.jsoc.Notify(email)), path=tmp_path / "out" / "{file}")
    (entry,) = jobs.list_requests()
    jsoc.expire(entry.requestid)
    outcome = jobs.restage(entry.requestid, notify=email)  # the ledger keeps the address only while pending
    assert isinstance(outcome, ReadyExport)
    assert outcome.requestid != entry.requestid
    statuses = {e.requestid: e.status for e in jobs.list_requests()}
    assert statuses[entry.requestid] == "expired"
    assert statuses[outcome.requestid] == "complete"
    files = jobs.download(outcome.requestid, path=tmp_path / "new" / "{file}", progress=False)
    assert len(files) >= 5


def test_pending_request_can_be_seen_and_cancelled(jsoc, email):
    table = Fido.search(*QUERY, a.jsoc.Notify(email))["jsoccutout"]
    plan = table.plans[0]
    with JSOCExportAPI(jsoc.url) as api:
        reply = api.exp_request(plan, email)
    requestid = reply["requestid"]
    params = {"ds": plan.ds, "process": plan.process, "notify": email}
    Ledger(ledger_path()).add_request(request_key(params), requestid, params)
    assert jobs.pending_request(email) == requestid
    assert jobs.cancel(requestid)
    assert jobs.pending_request(email) is None
    assert jobs.list_requests("cancelled")[0].requestid == requestid


def test_jobs_does_not_import_the_fetch_use_case():
    # jobs and _fetch are both use cases: what they share lives in _transfer.
    tree = ast.parse(Path(jobs.__file__).read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {m for m in imported if m and m.split(".")[-1] == "_fetch"}
