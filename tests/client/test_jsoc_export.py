"""The client's own JSOC export calls (exp_request with sizeratio, exp_status, manage-request.sh)."""

import socket

import drms
import pytest

from sunpy_jsoc_cutout._jsoc.export import JSOCExportAPI, export_params, pending_request_id
from sunpy_jsoc_cutout._plan.plans import ExportPlan
from sunpy_jsoc_cutout.exceptions import JSOCExportError, JSOCHTTPError

IM_PATCH = (
    "n=0|im_patch,t_ref=2010-07-30T13:30:02,t=0,r=0,c=0,locunits=arcsec,boxunits=arcsec,x=0,y=0,width=100,height=100"
)
FMT = "aia.lev1_euv_12s.{T_REC:A}.{WAVELNTH}.{segment}"


def aia_plan(ds="aia.lev1_euv_12s[2010-07-30T13:30:02Z][171]{image}", sizeratio="0.01", process=IM_PATCH):
    return ExportPlan("aia.lev1_euv_12s", ds, process, sizeratio, "url", "fits", FMT, None, 171)


@pytest.fixture
def api(emulator):
    with JSOCExportAPI(emulator.url, timeout=10) as api:
        yield api


def test_exp_request_sends_the_export_page_parameters(api, emulator, email):
    reply = api.exp_request(aia_plan(), email)
    assert reply["status"] == 2
    assert reply["requestid"].startswith("JSOC_")
    sent = [e["params"] for e in emulator.request_log if e["params"].get("op") == "exp_request"]
    assert sent == [export_params(aia_plan(), email)]
    assert sent[0]["sizeratio"] == "0.01"
    assert sent[0]["process"] == IM_PATCH
    assert "requestor" not in sent[0]


def test_sizeratio_is_honoured_by_the_size_limit(api, email):
    # Two days of 12 s AIA images (14,400 records) are over the 100,000 MB limit at full size.
    big = "aia.lev1_euv_12s[2010-08-01T00:00:00Z/2d][171]{image}"
    full = api.exp_request(aia_plan(big, sizeratio="1"), email)
    less = api.exp_request(aia_plan(big, sizeratio="0.9"), email)
    assert full["status"] == less["status"] == 3
    assert full["requestid"] == "VOID"
    assert "exceeds max byte limit" in full["error"]
    assert less["size"] == pytest.approx(full["size"] * 0.9, abs=1)


def test_exp_status_replies_are_returned_not_raised(api, email):
    reply = api.exp_status("JSOC_20000101_999")
    assert reply["status"] == 4
    assert "invalid export DRMS record" in reply["error"]
    submitted = api.exp_request(aia_plan(), email)
    assert api.exp_status(submitted["requestid"])["status"] == 1


def test_pending_request_id_from_jsoc_status_7(api, email):
    first = api.exp_request(aia_plan(), email)
    second = api.exp_request(aia_plan("aia.lev1_euv_12s[2010-07-30T13:30:02Z][193]{image}"), email)
    assert second["status"] == 7
    assert pending_request_id(second["error"]) == first["requestid"]
    ip_message = "There are too many requests from a@b.c; please wait until one or more requests have completed"
    assert pending_request_id(ip_message) is None
    assert pending_request_id("") is None


def test_check_and_cancel_pending(api, emulator, email):
    assert api.check_pending(email) is None
    first = api.exp_request(aia_plan(), email)["requestid"]
    assert api.check_pending(email) == first
    # Another request ID is never cancelled in its place.
    assert api.cancel_pending(email, "JSOC_20000101_001") is False
    assert api.check_pending(email) == first
    assert api.cancel_pending(email, first) is True
    assert api.check_pending(email) is None
    operations = [e["params"]["operation"] for e in emulator.request_log if e["endpoint"] == "manage_request"]
    assert operations.count("cancel") == 1
    # JSOC forgot the pending row, so the address may submit again.
    again = api.exp_request(aia_plan("aia.lev1_euv_12s[2010-07-30T13:30:02Z][193]{image}"), email)
    assert again["status"] == 2


def test_check_pending_sees_a_request_made_by_drms(api, emulator, email):
    client = drms.Client(server=emulator.server_config, email=email)
    foreign = client.export("hmi.M_45s[2014.01.01_00:00:00_TAI]", method="url", protocol="fits")
    assert api.check_pending(email) == foreign.id


def test_http_errors_raise_specific_exceptions(api, emulator, email):
    emulator.faults.set("http500", "jsoc_fetch", times=1)
    with pytest.raises(JSOCHTTPError) as info:
        api.exp_status("JSOC_20000101_001")
    assert info.value.status_code == 500
    assert isinstance(info.value, JSOCExportError)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with JSOCExportAPI(f"http://127.0.0.1:{port}", timeout=2) as dead, pytest.raises(JSOCHTTPError, match="reach"):
        dead.exp_request(aia_plan(), email)
