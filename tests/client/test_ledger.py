"""
The download ledger: request keys, request and file bookkeeping, reopening, two processes at once
(claims on files, turns to submit a request).
"""

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading

import pytest

from sunpy_jsoc_cutout._plan.plans import ExportPlan
from sunpy_jsoc_cutout._transfer.ledger import (
    REQUEST_KEY_FIELDS,
    FileEntry,
    Ledger,
    RequestEntry,
    ledger_params,
    plan_from_params,
    request_key,
)

PARAMS = {
    "series": "aia.lev1_euv_12s",
    "ds": "aia.lev1_euv_12s[2014-01-01T00:00:00Z/1m][171]{image}",
    "process": "im_patch,t_ref=2014-01-01T00:00:00Z,t=0,r=0,c=0,locunits=arcsec,boxunits=pixels,x=0,y=0,width=100,height=100",
    "protocol": "fits",
    "method": "url",
    "filenamefmt": "{seriesname}.{T_REC:A}.{WAVELNTH}.{segment}",
    "sizeratio": 1,
    "notify": "user@example.com",
    "requestor": "",
}


def _plan(**changes):
    fields = {k: v for k, v in PARAMS.items() if k != "notify"}
    fields["recordset"], fields["processing"] = fields.pop("ds"), fields.pop("process")  # as sent
    return ExportPlan(**{**fields, "sizeratio": "1", "requestor": None, "wavelength": 171, **changes})


def test_ledger_params_give_a_stable_key_and_rebuild_the_plan():
    plan = _plan()
    params = ledger_params(plan, "user@example.com")
    assert request_key(params) == request_key(ledger_params(_plan(), "user@example.com"))
    assert request_key(params) != request_key(ledger_params(_plan(sizeratio="0.02"), "user@example.com"))
    assert plan_from_params(params) == plan


def test_the_ledger_stores_exactly_the_request_key_fields():
    # One list of key fields: the stored parameters are those fields (and the wavelength, which the
    # request's ds already holds), each of them changes the key, and all but the address are read
    # from the plan (ds and process render its record set and process).
    plan = _plan()
    assert all(hasattr(plan, name) for name in set(REQUEST_KEY_FIELDS) - {"notify"})
    params = ledger_params(_plan(requestor="someone"), "user@example.com")
    assert set(params) == {*REQUEST_KEY_FIELDS, "wavelength"}
    keys = {request_key({**params, name: f"{params[name]}-changed"}) for name in REQUEST_KEY_FIELDS}
    assert len(keys) == len(REQUEST_KEY_FIELDS)
    assert request_key(params) not in keys
    assert request_key({**params, "wavelength": 193}) == request_key(params)


def test_request_key_is_stable_and_ignores_other_fields():
    key = request_key(PARAMS)
    assert len(key) == 64
    assert request_key(dict(reversed(list(PARAMS.items())))) == key
    assert request_key({**PARAMS, "op": "exp_request", "format": "json", "extra": None}) == key
    assert request_key({**PARAMS, "method": "url-tar"}) != key
    assert request_key({**PARAMS, "process": None}) == request_key({k: v for k, v in PARAMS.items() if k != "process"})


def test_requests_round_trip_and_status(tmp_path):
    ledger = Ledger(tmp_path / "deep" / "dir" / "ledger.sqlite")
    assert ledger.path.is_file()
    key = request_key(PARAMS)
    assert ledger.request_for(key) is None
    entry = ledger.add_request(key, "JSOC_20260101_1", PARAMS)
    assert isinstance(entry, RequestEntry)
    assert (entry.requestid, entry.key, entry.params, entry.status) == ("JSOC_20260101_1", key, PARAMS, "submitted")
    # adding the same ID again keeps the entry
    assert ledger.add_request(key, "JSOC_20260101_1", {"other": 1}).params == PARAMS

    ledger.set_status("JSOC_20260101_1", "complete", "done")
    assert "notify" not in ledger.get("JSOC_20260101_1").params  # kept only while the request is pending
    assert ledger.get("JSOC_20260101_1").status == "complete"
    assert ledger.get("JSOC_20260101_1").message == "done"
    assert ledger.request_for(key).requestid == "JSOC_20260101_1"

    # a newer request with the same key wins; failed or cancelled ones are never returned
    ledger.add_request(key, "JSOC_20260101_2", PARAMS)
    assert ledger.request_for(key).requestid == "JSOC_20260101_2"
    ledger.set_status("JSOC_20260101_2", "failed", "Bad recordset")
    assert ledger.request_for(key).requestid == "JSOC_20260101_1"
    ledger.set_status("JSOC_20260101_1", "cancelled")
    assert ledger.request_for(key) is None

    assert [e.requestid for e in ledger.requests()] == ["JSOC_20260101_1", "JSOC_20260101_2"]
    assert [e.requestid for e in ledger.requests("failed")] == ["JSOC_20260101_2"]
    assert ledger.get("JSOC_nope") is None
    with pytest.raises(ValueError, match="Unknown request status"):
        ledger.set_status("JSOC_20260101_1", "finished")
    with pytest.raises(KeyError, match="JSOC_nope"):
        ledger.set_status("JSOC_nope", "complete")


def test_files_are_idempotent_and_done_needs_the_file(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.add_request("k", "JSOC_1", PARAMS)
    files = [("rec[1]", "a.fits", "http://h/a.fits"), ("rec[2]", "b.fits", "http://h/b.fits")]
    ledger.add_files("JSOC_1", files)
    ledger.add_files("JSOC_1", files)
    entries = ledger.files("JSOC_1")
    assert [e.filename for e in entries] == ["a.fits", "b.fits"]
    assert entries[0] == FileEntry("JSOC_1", "rec[1]", "a.fits", "http://h/a.fits", None, None, None, False)
    assert ledger.done_file("JSOC_1", "a.fits") is None

    path = tmp_path / "a.fits"
    path.write_bytes(b"x" * 10)
    ledger.mark_done("JSOC_1", "a.fits", str(path), 10, "ab" * 32)
    ledger.add_files("JSOC_1", files)  # adding again does not undo the done state
    done = ledger.done_file("JSOC_1", "a.fits")
    assert done is not None
    assert (done.path, done.size, done.sha256, done.done) == (str(path), 10, "ab" * 32, True)
    path.write_bytes(b"x" * 5)  # changed size: no longer done
    assert ledger.done_file("JSOC_1", "a.fits") is None
    path.unlink()
    assert ledger.done_file("JSOC_1", "a.fits") is None
    assert ledger.files("JSOC_2") == []


def test_reopen_keeps_everything(tmp_path):
    path = tmp_path / "ledger.sqlite"
    first = Ledger(path)
    first.add_request("k", "JSOC_1", PARAMS)
    first.set_status("JSOC_1", "complete", "ok")
    first.add_files("JSOC_1", [("r", "f.fits", "http://h/f.fits")])
    (tmp_path / "f.fits").write_bytes(b"abc")
    first.mark_done("JSOC_1", "f.fits", str(tmp_path / "f.fits"), 3, "00" * 32)
    del first
    again = Ledger(path)
    assert again.get("JSOC_1").status == "complete"
    assert again.request_for("k").params == {k: v for k, v in PARAMS.items() if k != "notify"}  # no longer pending
    assert again.done_file("JSOC_1", "f.fits").sha256 == "00" * 32


_WORKER = textwrap.dedent(
    """
    import sys
    from sunpy_jsoc_cutout._transfer.ledger import Ledger
    ledger = Ledger(sys.argv[1])
    name = sys.argv[2]
    for i in range(int(sys.argv[3])):
        rid = f"JSOC_{name}_{i}"
        ledger.add_request(f"key{i % 7}", rid, {"i": i, "name": name})
        ledger.add_files(rid, [(f"r{i}", f"{name}_{i}.fits", "http://h/x")])
        ledger.set_status(rid, "complete")
        ledger.mark_done(rid, f"{name}_{i}.fits", "/nonexistent", 1, "0" * 64)
    """
)


def test_two_processes_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared.sqlite"
    Ledger(path)
    count = 300
    workers = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(path), name, str(count)], stderr=subprocess.PIPE)
        for name in ("a", "b")
    ]
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err.decode()
    ledger = Ledger(path)
    expected = {f"JSOC_{name}_{i}" for name in ("a", "b") for i in range(count)}
    assert {e.requestid for e in ledger.requests()} == expected
    assert len(ledger.requests("complete")) == 2 * count
    for rid in ("JSOC_a_0", "JSOC_b_299"):
        (entry,) = ledger.files(rid)
        assert entry.done


# privacy -----------------------------------------------------------------------------------------


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_ledger_is_private(tmp_path):
    previous = os.umask(0o022)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    try:
        ledger = Ledger(shared / "new" / "deep" / "ledger.sqlite")
    finally:
        os.umask(previous)
    ledger.add_request("k", "JSOC_1", PARAMS)
    assert _mode(ledger.path) == 0o600
    assert _mode(shared / "new") == 0o700
    assert _mode(shared / "new" / "deep") == 0o700
    for suffix in ("-wal", "-shm"):  # SQLite gives them the database's permissions
        side = ledger.path.with_name(ledger.path.name + suffix)
        if side.exists():
            assert _mode(side) & 0o077 == 0
    assert _mode(shared) == 0o755  # a folder the client did not make is left alone


def test_an_earlier_world_readable_ledger_is_made_private_and_forgets_addresses(tmp_path):
    path = tmp_path / "old.sqlite"
    old = Ledger(path)
    old.add_request("k1", "JSOC_1", PARAMS)
    old.add_request("k2", "JSOC_2", PARAMS)
    with old._connect(write=True) as connection:  # as earlier versions left it
        connection.execute("UPDATE requests SET status = 'complete' WHERE requestid = 'JSOC_1'")
    path.chmod(0o644)
    again = Ledger(path)
    assert _mode(path) == 0o600
    assert "notify" not in again.get("JSOC_1").params
    assert again.get("JSOC_2").params["notify"] == PARAMS["notify"]  # pending: cancel needs it


# claims ------------------------------------------------------------------------------------------

_CLAIMER = textwrap.dedent(
    """
    import sys, time
    from sunpy_jsoc_cutout._transfer.ledger import Ledger
    ledger = Ledger(sys.argv[1])
    print(ledger.claim("JSOC_1", "a.fits") is None, flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def test_claims_lock_a_file_to_one_live_process(tmp_path):
    path = tmp_path / "shared.sqlite"
    ledger = Ledger(path)
    holder = subprocess.Popen([sys.executable, "-c", _CLAIMER, str(path), "30"], stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline().strip() == b"True"
        claim = ledger.claim("JSOC_1", "a.fits")
        assert claim is not None
        assert claim.pid == holder.pid
        assert ledger.claim_of("JSOC_1", "a.fits") == claim
        ledger.release("JSOC_1", "a.fits")  # another process's claim is not ours to release
        assert ledger.claim_of("JSOC_1", "a.fits") is not None
    finally:
        holder.kill()
        holder.wait()
    # a dead process's claim is stale: taken over
    assert ledger.claim_of("JSOC_1", "a.fits") is None
    assert ledger.claim("JSOC_1", "a.fits") is None
    assert ledger.claim("JSOC_1", "a.fits") is None  # claiming again is harmless
    # finishing the file removes the claim
    (tmp_path / "a.fits").write_bytes(b"x")
    ledger.mark_done("JSOC_1", "a.fits", str(tmp_path / "a.fits"), 1, "0" * 64)
    with ledger._connect() as connection:
        assert connection.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0


# submission intents --------------------------------------------------------------------------------

_SUBMITTER = textwrap.dedent(
    """
    import sys, time
    from sunpy_jsoc_cutout._transfer.ledger import Ledger
    turn = Ledger(sys.argv[1]).take_intent(sys.argv[2])
    print(turn.granted, flush=True)
    time.sleep(float(sys.argv[3]))
    """
)


def hold_intent(path, key, seconds=60):
    """A child process that takes the turn to submit ``key`` and then keeps running."""
    child = subprocess.Popen([sys.executable, "-c", _SUBMITTER, str(path), key, str(seconds)], stdout=subprocess.PIPE)
    assert child.stdout.readline().strip() == b"True"
    return child


def test_one_live_process_at_a_time_may_submit_a_request(tmp_path):
    path = tmp_path / "shared.sqlite"
    ledger = Ledger(path)
    key = request_key(PARAMS)
    holder = hold_intent(path, key)
    try:
        held_since = ledger.intent(key)
        turn = ledger.take_intent(key)
        assert not turn.granted
        assert turn.holder.pid == holder.pid
        assert turn.request is None
        ledger.clear_intent(key)  # another process's intent is not ours to clear
        assert not ledger.take_intent(key).granted
    finally:
        holder.kill()
        holder.wait()
    # a killed submitter's intent is taken over, and its start is handed on (JSOC may hold its request)
    turn = ledger.take_intent(key)
    assert turn.granted
    assert turn.previous == held_since
    assert ledger.take_intent(key).granted  # taking it again is harmless
    # once a request of the key is recorded, nobody gets the turn: it is there to adopt
    ledger.add_request(key, "JSOC_1", PARAMS)
    ledger.clear_intent(key)
    turn = ledger.take_intent(key)
    assert (turn.granted, turn.request.requestid) == (False, "JSOC_1")
    ledger.set_status("JSOC_1", "expired")  # an expired or failed one is not: it is asked again
    assert ledger.take_intent(key).granted


def test_an_intent_written_before_intents_had_owners_is_taken_over(tmp_path):
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as connection:  # the intents table as version 0.1 wrote it
        connection.execute("CREATE TABLE intents (key TEXT PRIMARY KEY, started REAL NOT NULL)")
        connection.execute("INSERT INTO intents VALUES ('k', 1234.5)")
    connection.close()
    ledger = Ledger(path)
    turn = ledger.take_intent("k")
    assert turn.granted
    assert turn.previous == 1234.5


def test_each_thread_keeps_one_connection_and_close_closes_them(tmp_path):
    """Opening a SQLite connection costs more than most ledger operations: one is kept per thread."""
    ledger = Ledger(tmp_path / "ledger.sqlite")
    params = {"ds": "aia.lev1[2014.02.05_08:00:00_TAI/1m@60s][? WAVELNTH=171 ?]", "notify": "a@b.c"}
    ledger.add_request("key", "JSOC_20140205_001", params)
    files = [(f"f{i}.fits", f"/out/f{i}.fits", "") for i in range(50)]
    ledger.add_files("JSOC_20140205_001", files)
    for name, path, _ in files:
        ledger.mark_done("JSOC_20140205_001", name, path, 1, "0" * 64)
    assert len(ledger._opened) == 1

    def work():
        assert len(ledger.files("JSOC_20140205_001")) == 50

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ledger._opened) == 4
    ledger.close()
    assert ledger._opened == []
    assert ledger.get("JSOC_20140205_001").status == "submitted"  # usable again after close


def test_an_error_inside_a_transaction_rolls_back_and_the_next_operation_works(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.add_request("key", "JSOC_20140205_001", {"ds": "x", "notify": "a@b.c"})

    def failing_transaction():
        with ledger._connect(write=True) as connection:
            connection.execute("DELETE FROM requests")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        failing_transaction()
    assert ledger.get("JSOC_20140205_001") is not None  # rolled back
    ledger.add_request("key", "JSOC_20140205_002", {"ds": "x", "notify": "a@b.c"})
    assert ledger.get("JSOC_20140205_002") is not None
    assert len(ledger._opened) == 1
