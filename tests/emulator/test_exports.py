"""The emulator's export manager: jsoc_fetch's rules, messages and the files of an export."""

import json
import math
import tarfile

import pytest

from sunpy_jsoc_cutout.testing.catalogue.catalogue import Catalogue
from sunpy_jsoc_cutout.testing.exports.clock import Clock
from sunpy_jsoc_cutout.testing.exports.filestore import FileStore
from sunpy_jsoc_cutout.testing.exports.manager import ExportManager
from sunpy_jsoc_cutout.testing.exports.timemodel import FAST, TimeModel

EMAIL = "user@example.com"
HMI = "hmi.M_45s[2014.01.01_00:00:00_TAI/90s]"  # 2 records
AIA = "aia.lev1_euv_12s[2010-07-30T13:30:02Z/24s][193]"  # 2 records, image + spikes
IM_PATCH = "im_patch,t_ref=2010-07-30T13:30:02,t=0,r=0,c=0,locunits=arcsec,boxunits=arcsec,x=0,y=0,width=100,height=100"
PENDING_TAIL = "please wait until at least one request has completed before submitting a new one."


@pytest.fixture(scope="module")
def catalogue():
    return Catalogue()


@pytest.fixture
def clock():
    return Clock()


def _manager(catalogue, tmp_path, clock, model=FAST, **kwargs):
    store = FileStore(tmp_path / "store", image_size=16, catalogue=catalogue)
    manager = ExportManager(catalogue, store, clock, model, **kwargs)
    manager.register_address(EMAIL)
    return manager


@pytest.fixture
def manager(catalogue, tmp_path, clock):
    manager = _manager(catalogue, tmp_path, clock)
    yield manager
    manager.close()


def submit(manager, ds=HMI, ip="127.0.0.1", **params):
    params = {"op": "exp_request", "ds": ds, "notify": EMAIL, "method": "url", "protocol": "fits", **params}
    return manager.exp_request(params, ip)


def finish(manager, requestid):
    """Poll like drms does until the request leaves status 1; return the last reply."""
    assert manager.wait_idle(60)
    for _ in range(5):
        reply = manager.exp_status({"op": "exp_status", "requestid": requestid})
        if reply["status"] not in (1, "1"):
            return reply
    raise AssertionError(f"{requestid} still pending: {reply}")


def test_new_request_reply_and_fast_status_sequence(manager):
    reply = submit(manager)
    assert reply == {
        "status": 2,
        "requestid": reply["requestid"],
        "method": "url",
        "protocol": "fits",
        "wait": 0,
        "rcount": 2,
        "size": reply["size"],
    }
    assert reply["size"] >= 1
    manager.wait_idle()
    first = manager.exp_status({"requestid": reply["requestid"]})
    assert first["status"] == 1
    assert first["rcount"] == 0
    assert first["wait"] <= 0
    done = manager.exp_status({"requestid": reply["requestid"]})
    assert done["status"] == "0"


def test_request_ids_use_a_daily_counter(manager, clock):
    day = clock.now_datetime().strftime("%Y%m%d")
    assert submit(manager)["requestid"] == f"JSOC_{day}_001"
    clock.advance(86400)
    manager.register_address("second@example.com")
    second = submit(manager, notify="second@example.com")["requestid"]
    assert second == f"JSOC_{clock.now_datetime().strftime('%Y%m%d')}_001"
    assert second != f"JSOC_{day}_001"


def test_notify_must_be_registered(manager):
    assert submit(manager, notify="") == {
        "status": 4,
        "error": "Email address for notification was not specified. It is required.",
    }
    assert submit(manager, notify="nobody@example.com") == {
        "status": 4,
        "error": "Cannot process your request. email address has been neither validated nor registered",
    }
    assert submit(manager, notify="USER@Example.com")["status"] == 2  # registered, case-insensitive


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ds", HMI + ";rm -rf", "Illegal text in arg: ';' not allowed"),
        ("filenamefmt", "a'b.{segment}", 'Illegal text in arg: Unbalanced "\'" not allowed.'),
        ("process=n", "0|im_patch,x=';'", "Illegal text in arg: ';' not allowed"),
    ],
)
def test_illegal_text(manager, field, value, message):
    assert submit(manager, **{field: value}) == {"status": 4, "error": message}


def test_one_pending_request_per_address(manager):
    first = submit(manager)["requestid"]
    blocked = submit(manager, ds="hmi.M_45s[2014.01.01_01:00:00_TAI/45s]", notify=EMAIL.upper())
    assert blocked == {
        "status": 7,
        "error": f"User {EMAIL.upper()} has 1 pending export requests ({first}); " + PENDING_TAIL,
    }
    manager.register_address("other@example.com")
    assert submit(manager, notify="other@example.com")["status"] == 2
    assert finish(manager, first)["status"] == "0"
    assert submit(manager, ds="hmi.M_45s[2014.01.01_01:00:00_TAI/45s]")["status"] == 2


def test_pending_rows_time_out_after_60_minutes(manager, clock):
    submit(manager)
    other = "hmi.M_45s[2014.01.01_01:00:00_TAI/45s]"
    clock.advance(59 * 60)
    assert submit(manager, ds=other)["status"] == 7
    clock.advance(61)
    assert submit(manager, ds=other)["status"] == 2


def test_more_than_ten_pending_requests_per_ip(manager):
    for k in range(11):
        manager.register_address(f"u{k}@example.com")
        assert (
            submit(
                manager, ds=f"hmi.M_45s[2014.01.01_01:{k:02d}:00_TAI/45s]", notify=f"u{k}@example.com", ip="10.0.0.1"
            )["status"]
            == 2
        )
    manager.register_address("u11@example.com")
    assert submit(manager, notify="u11@example.com", ip="10.0.0.1") == {
        "status": 7,
        "error": "There are too many requests from u11@example.com; please wait until one or more "
        "requests have completed before submitting a new one.",
    }
    assert submit(manager, notify="u11@example.com", ip="10.0.0.2")["status"] == 2


def test_identical_request_pending_then_duplicate_after_completion(manager, clock):
    first = submit(manager)["requestid"]
    assert submit(manager)["status"] == 7  # the pending check runs before the duplicate check
    finish(manager, first)
    again = submit(manager)
    assert again["status"] == 2
    assert again["requestid"] == first
    assert again["wait"] == 0
    assert manager.exp_status({"requestid": first})["status"] == "0"  # at once, no status 1
    clock.advance(24 * 3600 + 1)
    assert submit(manager)["requestid"] != first


def test_both_process_encodings_are_the_same_request(manager):
    first = submit(manager, ds=AIA + "{image}", **{"process=n": "0|" + IM_PATCH})
    index = finish(manager, first["requestid"])
    assert [row["record"].startswith("aia.lev1_euv_12s_mod[") for row in index["data"]] == [True, True]
    assert all(row["filename"].endswith(".image.fits") for row in index["data"])
    same = submit(manager, ds=AIA + "{image}", process="n=0|" + IM_PATCH)
    assert same["requestid"] == first["requestid"]


def test_json_processing_form_and_its_size_ratio(manager):
    processing = json.dumps(
        {
            "im_patch": {
                "t_ref": "2010-07-30T13:30:02",
                "t": False,
                "r": False,
                "c": False,
                "locunits": "arcsec",
                "boxunits": "arcsec",
                "x": 0,
                "y": 0,
                "width": 100,
                "height": 100,
            }
        }
    )
    reply = submit(manager, ds=AIA + "{image}", processing=processing, max_recs="1")
    assert reply["status"] == 2
    assert reply["rcount"] == 1
    assert reply["size"] == 1
    request = manager.request(reply["requestid"])
    assert request.chain.text.startswith("n=1|im_patch,t_ref=2010-07-30T13:30:02,t=0,r=0,c=0,")
    assert submit(manager, processing="{not json") == {"status": 4, "error": "invalid processing list argument"}


def test_unknown_step_fails_later_and_releases_the_address(manager):
    reply = submit(manager, process="n=0|bogus,x=1")
    assert reply["status"] == 2
    failed = finish(manager, reply["requestid"])
    assert failed["status"] == 4
    assert failed["wait"] == 999999
    assert failed["error"] == "Invalid process field value: n=0|bogus,x=1."
    assert failed["contact"] == "jsoc_help@jsoc.stanford.edu"
    assert submit(manager, process="n=0|bogus,x=1")["requestid"] != reply["requestid"]  # hash forgotten


def test_unknown_image_protocol_fails_at_staging(manager):
    reply = submit(manager, protocol="png,CT=grey.sao,scaling=MINMAX,size=1")
    assert reply["status"] == 2
    failed = finish(manager, reply["requestid"])
    assert failed["status"] == 4
    assert "png" in failed["error"]


def test_unsupported_method(manager):
    assert submit(manager, method="ftp")["status"] == 4


def test_bad_record_sets(manager):
    assert submit(manager, ds="hmi.M_45s[2014") == {"status": 4, "error": "Bad record-set query 'hmi.M_45s[2014'.\n"}
    assert submit(manager, ds="hmi.nothing[2014.01.01]") == {
        "status": 4,
        "error": "Cannot export series 'hmi.nothing' - it does not exist.\n",
    }
    assert submit(manager, ds=HMI + "{magnetogram}", seg="magnetogram")["status"] == 4


def test_record_count_limit(catalogue, tmp_path, clock):
    manager = _manager(catalogue, tmp_path, clock, record_limits={"hmi": 10})
    try:
        assert submit(manager, ds="hmi.M_45s[2014.01.01_00:00:00_TAI/15m]") == {
            "status": 4,
            "error": "Can not open RecordSet 20 is too many records in one request.",
        }
        assert submit(manager, ds="hmi.M_45s[2014.01.01_00:00:00_TAI/450s]")["rcount"] == 10
    finally:
        manager.close()


def test_size_limits_status_3_and_sizeratio(manager):
    ds = "hmi.M_45s[2014.01.01_00:00:00_TAI/10h]"  # 798 images of 15 MB
    manager.set_faults(fail_after=0)  # accepted requests fail at once instead of making 800 files
    refused = submit(manager, ds=ds, protocol="FITS,**NONE**")
    assert refused["status"] == 3
    assert refused["requestid"] == "VOID"
    assert refused["count"] == 798
    assert refused["error"] == "Request exceeds max byte limit of 10000MB"
    assert refused["size"] > 10000
    assert submit(manager, ds=ds, protocol="FITS,**NONE**", sizeratio="0.01")["status"] == 2


def test_quality_filter_and_first_last_rewrite(manager):
    with_gap = "hmi.M_45s[2014.01.01_04:22:30_TAI/135s]"  # the middle record has no image
    reply = submit(manager, ds=with_gap)
    request = manager.request(reply["requestid"])
    assert reply["rcount"] == 2
    assert request.dataset == with_gap + "[? drms.image_exists(quality) ?]"
    manager.register_address("q@example.com")
    assert submit(manager, ds=with_gap, notify="q@example.com", q="1")["rcount"] == 3
    manager.register_address("last@example.com")
    last = manager.request(submit(manager, ds="hmi.M_45s[$]", notify="last@example.com")["requestid"])
    assert last.dataset == f"hmi.M_45s[:#{int(last.records.recnum[0])}]"


def test_url_quick_as_is(manager):
    reply = submit(manager, ds=HMI + "{magnetogram}", method="url_quick", protocol="as-is")
    assert reply["status"] == 0
    assert reply["requestid"] == ""
    assert reply["dir"] == ""
    assert reply["count"] == 2
    row = reply["data"][0]
    assert row["record"] == "hmi.M_45s[2014.01.01_00:00:00_TAI][2]{magnetogram}"
    assert row["filename"].startswith("/SUM")
    assert row["filename"].endswith("/magnetogram.fits")
    assert manager.store.locate(row["filename"]).read_bytes()[:9] == b"SIMPLE  ="
    empty = submit(manager, ds="hmi.M_45s[2009.01.01_00:00:00_TAI/1h]", method="url_quick", protocol="as-is")
    assert empty == {"status": 4, "error": "There are no files in this RecordSet"}


def test_index_json_values_and_files(manager):
    fmt = "aia.lev1_euv_12s.{T_REC:A}.{WAVELNTH}.{segment}"
    reply = submit(manager, ds=AIA, filenamefmt=fmt)
    index = finish(manager, reply["requestid"])
    assert list(index) == [
        "version",
        "requestid",
        "method",
        "protocol",
        "count",
        "size",
        "exptime",
        "dir",
        "status",
        "keywords",
        "data",
    ]
    assert all(isinstance(v, str) for k, v in index.items() if k != "data")
    assert index["count"] == "4"
    assert index["status"] == "0"
    assert index["keywords"] == "**IN FITS FILES**"
    names = [row["filename"] for row in index["data"]]
    assert names[0].startswith("aia.lev1_euv_12s.2010-07-30T1330")
    assert names[0].endswith(".193.image_lev1.fits")
    assert names[1].endswith(".193.spikes.fits")
    for name in names:
        assert manager.store.locate(f"{index['dir']}/{name}") is not None
    on_disk = json.loads(manager.store.locate(index["dir"] + "/index.json").read_text())
    assert on_disk == index
    text = manager.store.locate(index["dir"] + "/index.txt").read_text().splitlines()
    assert text[1] == "version=0.5"
    assert "# DATA " in text
    assert f"{index['data'][0]['record']}\t{names[0]}" in text


def test_as_is_url_export_lists_keywords_file(manager):
    index = finish(manager, submit(manager, protocol="as-is")["requestid"])
    assert index["keywords"] == f"{index['dir']}/{index['requestid']}.keywords.txt"
    assert manager.store.locate(index["keywords"]).read_text().startswith("query\t")


def test_url_tar_holds_the_whole_directory(manager):
    index = finish(manager, submit(manager, method="url-tar")["requestid"])
    assert index["tarfile"] == f"{index['dir']}/{index['requestid']}.tar"
    with tarfile.open(manager.store.locate(index["tarfile"])) as tar:
        names = set(tar.getnames())
    files = {f"./{row['filename']}" for row in index["data"]}
    assert files | {"./index.json", "./index.txt"} <= names
    assert manager.store.locate(f"{index['dir']}/{index['data'][0]['filename']}") is None  # deleted as JSOC


def test_unsafe_tar_members_on_request(manager):
    manager.set_faults(unsafe_tar=["absolute", "dotdot", "symlink", "hardlink"])
    index = finish(manager, submit(manager, method="url-tar")["requestid"])
    with tarfile.open(manager.store.locate(index["tarfile"])) as tar:
        members = tar.getmembers()
    assert any(m.name.startswith("/") for m in members)
    assert any(".." in m.name.split("/") for m in members)
    assert any(m.issym() for m in members)
    assert any(m.islnk() for m in members)


def test_fault_fails_a_request_part_way(manager):
    manager.set_faults(fail_after=1, fail_message="disk full", fail_requests=1)
    failed = finish(manager, submit(manager)["requestid"])
    assert failed["status"] == 4
    assert failed["error"] == "disk full"
    assert finish(manager, submit(manager)["requestid"])["status"] == "0"


def test_fault_pending_request_made_elsewhere(manager):
    manager.set_faults(pending_elsewhere=EMAIL)
    (row,) = manager.state()["pending"]
    assert submit(manager) == {
        "status": 7,
        "error": f"User {EMAIL} has 1 pending export requests ({row['requestid']}); " + PENDING_TAIL,
    }


def test_offline_data_status_25(manager):
    manager.set_faults(offline=True)
    reply = submit(manager)
    requestid = reply["requestid"]
    assert reply == {
        "status": 25,
        "requestid": requestid,
        "error": "One or more data files are offline; please send a request for help to "
        "jsoc@sun.stanford.edu and we will place the requested data online, and then you "
        f"may try again; {requestid}",
    }
    assert manager.exp_status({"requestid": requestid})["status"] == 25
    assert manager.state()["pending"] == []  # status 25 holds no pending row: the next request is accepted
    manager.set_faults(offline=False)
    assert finish(manager, submit(manager)["requestid"])["status"] == "0"


def test_expiry_after_seven_days(manager, clock):
    index = finish(manager, submit(manager)["requestid"])
    clock.advance(7 * 86400)
    expired = manager.exp_status({"requestid": index["requestid"]})
    assert expired["status"] == 5
    assert expired["wait"] == 999999
    assert expired["error"] == "Request was completed but is now deleted, 7 day limit exceeded"
    assert manager.store.locate(index["dir"] + "/index.json") is None


def test_expire_knob(manager):
    requestid = submit(manager)["requestid"]
    assert manager.expire("JSOC_20000101_001") == "unknown"
    finish(manager, requestid)
    assert manager.expire(requestid) == "expired"
    assert manager.exp_status({"requestid": requestid})["status"] == 5


def test_bad_and_unknown_request_ids(manager):
    assert manager.exp_status({"requestid": "nonsense"}) == {"status": 4, "error": "Bad RequestID 'nonsense' provided."}
    assert manager.exp_status({"requestid": "JSOC_20200101_999"}) == {
        "status": 4,
        "error": "invalid export DRMS record for ID `%s`JSOC_20200101_999",
    }


def test_manage_request_check_and_cancel(manager):
    assert manager.manage_request({"address": EMAIL, "operation": "check"}) == {
        "status": "1",
        "msg": f"no existing export request for export user {EMAIL}",
    }
    requestid = submit(manager)["requestid"]
    check = manager.manage_request({"address": EMAIL, "operation": "check"})
    assert check["status"] == "2"
    assert f"[ request_id={requestid}, start_time=" in check["msg"]
    cancel = manager.manage_request({"address": EMAIL, "operation": "cancel"})
    assert cancel["status"] == "3"
    assert cancel["msg"].endswith(" ] was canceled")
    assert submit(manager, ds="hmi.M_45s[2014.01.01_01:00:00_TAI/45s]")["status"] == 2
    assert manager.manage_request({"address": EMAIL, "operation": "explode"})["status"] == "-3"


def test_clock_driven_model_waits_count_down_and_go_negative(catalogue, tmp_path, clock):
    model = TimeModel(name="test", fresh_wait=10, queue_delay=3, queue_jitter=0, overhead=20, per_file=0)
    manager = _manager(catalogue, tmp_path, clock, model)
    # The clock is wall time plus an offset: on a loaded machine a second may pass between two
    # calls, so each wait is checked against the model's value less the seconds that really passed.
    try:
        start = clock.now()
        reply = submit(manager)

        def expected(model_wait):
            return range(model_wait - math.ceil(clock.now() - start), model_wait + 1)

        assert reply["wait"] in expected(10)
        manager.wait_idle()
        assert manager.exp_status({"requestid": reply["requestid"]})["wait"] in expected(10)
        clock.advance(15)
        start += 15
        pending = manager.exp_status({"requestid": reply["requestid"]})
        assert pending["status"] == 1
        assert pending["wait"] in expected(-5)
        clock.advance(10)
        assert manager.exp_status({"requestid": reply["requestid"]})["status"] == "0"
    finally:
        manager.close()


@pytest.mark.parametrize("method", ["url", "url-tar"])
def test_files_charged_are_the_files_the_export_writes(catalogue, tmp_path, clock, method):
    """jsoc_fetch counts image and spikes (``count`` 4 for 2 AIA records), but im_patch writes one
    file per record (its first segment): the per-file time is charged for those 2 files."""
    model = TimeModel(name="test", fresh_wait=0, queue_delay=0, queue_jitter=0, overhead=0, per_file=10,
                      per_tar_file=5, step_seconds=(), other_step_seconds=0, bandwidth=None)  # fmt: skip
    manager = _manager(catalogue, tmp_path, clock, model)
    try:
        plain = submit(manager, ds=AIA, method=method)
        assert plain["status"] == 2
        manager.wait_idle()
        request = manager.book.get(plain["requestid"])
        per = 10 + (5 if method == "url-tar" else 0)
        assert request.nfiles == 4
        assert request.ready_at - request.submitted == pytest.approx(4 * per)  # unprocessed: both segments
        clock.advance(4 * per + 1)
        assert manager.exp_status({"requestid": plain["requestid"]})["status"] == "0"
        patched = submit(manager, ds=AIA, method=method, process=f"n=0|{IM_PATCH}")
        manager.wait_idle()
        request = manager.book.get(patched["requestid"])
        assert (request.nfiles, len(request.index["data"]) if method == "url" else 2) == (4, 2)
        assert request.ready_at - request.submitted == pytest.approx(2 * per)
    finally:
        manager.close()


def test_im_patch_is_charged_for_the_frames_it_picks_on_lev1(catalogue, tmp_path, clock):
    """On ``aia.lev1`` with a cadence im_patch picks a frame per slot from the whole span, whatever the
    ``@60s`` set holds (here none: 193 Å frames are not on that grid), and is charged for each."""
    model = TimeModel(name="test", fresh_wait=0, queue_delay=0, queue_jitter=0, overhead=0, per_file=0,
                      per_tar_file=0, step_seconds=(("im_patch", 1.0),), bandwidth=None)  # fmt: skip
    manager = _manager(catalogue, tmp_path, clock, model)
    lev1 = "aia.lev1[2014.02.05_08:00:00_TAI-2014.02.05_08:09:59_TAI@60s][? WAVELNTH=193 ?]"
    process = (
        "n=0|im_patch,t_start=2014-02-05T08:00:00.000,t_stop=2014-02-05T08:10:00.000,t=0,r=0,c=0,cadence=60s,"
        "locunits=arcsec,boxunits=arcsec,t_ref=2014-02-05T08:00:00.000,x=0,y=0,width=100,height=100"
    )
    try:
        reply = submit(manager, ds=lev1, process=process)
        assert reply["status"] == 2
        manager.wait_idle()
        request = manager.book.get(reply["requestid"])
        made = len(request.index["data"])
        assert request.rcount < made
        assert made >= 9
        assert request.ready_at - request.submitted == pytest.approx(made * 1.0)
    finally:
        manager.close()


def test_check_address(manager):
    assert manager.check_address({"address": "user%2540example.com", "checkonly": "1"}) == {
        "status": 2,
        "msg": "Email address is valid and registered.",
    }
    assert manager.check_address({"address": "new@example.com", "checkonly": "1"})["status"] == 4
    assert manager.check_address({"checkonly": "1"}) == {"status": -2, "msg": "Missing required argument 'address'."}
    assert manager.check_address({"address": "not-an-address"}) == {"status": -2, "msg": "Not a valid email address."}
    assert manager.check_address({"address": "new@example.com"})["status"] == 1
    assert manager.check_address({"address": "new@example.com", "checkonly": "1"})["status"] == 3
