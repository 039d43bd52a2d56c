"""
The export scheduler against the emulator with JSOC's rules on: one pending request at a time,
pipelining with downloads, status 7 handling, failures, the ledger, expiry and polling intervals.

The runner's ``sleep`` lets the emulator's export worker finish, then moves the emulator's clock, so
no test waits in real time (the FAST time model advances by polls).
"""

import io
import itertools
from dataclasses import replace

import drms
import pytest
import requests
from test_ledger import hold_intent  # a sibling test module: a child process holding a submission turn

from sunpy_jsoc_cutout import jobs
from sunpy_jsoc_cutout._jsoc.export import JSOCExportAPI
from sunpy_jsoc_cutout._plan.plans import ExportPlan
from sunpy_jsoc_cutout._transfer.ledger import Ledger, ledger_params, plan_from_params, request_key
from sunpy_jsoc_cutout._transfer.pace import StagingPace
from sunpy_jsoc_cutout._transfer.progress import StagingProgress
from sunpy_jsoc_cutout._transfer.scheduler import ExportRunner, FailedExport, ReadyExport
from sunpy_jsoc_cutout.config import use_jsoc
from sunpy_jsoc_cutout.exceptions import ExportMismatchError, ExportTimeoutError, JSOCExportError, JSOCHTTPError
from sunpy_jsoc_cutout.testing import JSOCEmulator
from sunpy_jsoc_cutout.testing.exports.timemodel import TimeModel

IM_PATCH = (
    "n=0|im_patch,t_ref=2010-07-30T13:30:02,t=0,r=0,c=0,locunits=arcsec,boxunits=arcsec,x=0,y=0,width=100,height=100"
)
FMT = "aia.lev1_euv_12s.{T_REC:A}.{WAVELNTH}.{segment}"
WAVES = (94, 171, 193, 304)


def plan(wave=171, process=IM_PATCH, series="aia.lev1_euv_12s"):
    ds = f"{series}[2010-07-30T13:30:02Z][{wave}]{{image}}"
    return ExportPlan(series, ds, process, "0.01", "url", "fits", FMT, None, wave)


def record(ledger, requestid, p, email):
    """Put ``requestid`` in the ledger as the request of plan ``p`` (as an earlier run would have)."""
    params = ledger_params(p, email)
    ledger.add_request(request_key(params), requestid, params)


class Harness:
    """A runner wired to the emulator's clock, with what the emulator looked like at each pause."""

    def __init__(self, emulator, ledger, email):
        self.emulator, self.ledger, self.email = emulator, ledger, email
        self.api = JSOCExportAPI(emulator.url, timeout=10)
        self.live_pending = []

    def sleep(self, seconds):
        assert self.emulator.exports.wait_idle(30)
        pending = self.emulator.exports.state()["pending"]
        self.live_pending.append(sum(1 for row in pending if row["live"] and row["address"] == self.email))
        self.emulator.clock.advance(seconds)

    def runner(self, **kwargs):
        kwargs.setdefault("progress", False)
        return ExportRunner(
            self.api, self.ledger, notify=self.email, clock=self.emulator.clock.now, sleep=self.sleep, **kwargs
        )

    def log(self, op=None):
        entries = [e for e in self.emulator.request_log if e["endpoint"] == "jsoc_fetch"]
        return [e for e in entries if op is None or e["params"].get("op") == op]

    def download(self, ready):
        for row in ready.index["data"]:
            url = self.emulator.url + ready.index["dir"].lstrip("/") + "/" + row["filename"]
            response = requests.get(url, timeout=10)
            assert response.status_code == 200
            assert response.content[:6] == b"SIMPLE"


@pytest.fixture
def harness(emulator, email, tmp_path):
    h = Harness(emulator, Ledger(tmp_path / "ledger.sqlite"), email)
    yield h
    h.api.close()


def test_one_pending_request_at_a_time_and_downloads_overlap_staging(harness, emulator):
    plans = [plan(w) for w in WAVES]
    received = []
    for outcome in harness.runner().iter_ready(plans):
        assert isinstance(outcome, ReadyExport)
        received.append((outcome, len(emulator.request_log), emulator.clock.now()))
        harness.download(outcome)
    assert [r[0].plan for r in received] == plans
    submits = harness.log("exp_request")
    assert [e["jsoc_status"] for e in submits] == [2, 2, 2, 2]
    # JSOC's pending table never held two of our requests, and no submission was refused.
    assert max(harness.live_pending) == 1
    assert not [e for e in emulator.request_log if e.get("jsoc_status") == 7]
    for k, (ready, log_length, when) in enumerate(received[:-1]):
        # k+1 was submitted after k completed and before the caller got (and downloaded) k.
        done_k = next(
            e
            for e in harness.log("exp_status")
            if e["params"]["requestid"] == ready.requestid and str(e["jsoc_status"]) == "0"
        )
        assert done_k["index"] < submits[k + 1]["index"] < log_length
        assert submits[k + 1]["time"] <= when
        first_download = next(e for e in emulator.request_log.since(log_length) if e["endpoint"] == "files")
        assert submits[k + 1]["index"] < first_download["index"]
    assert {e.status for e in harness.ledger.requests()} == {"complete"}


def test_polling_never_faster_than_min_poll(harness):
    outcomes = list(harness.runner(min_poll=5, max_poll=7).iter_ready([plan(171), plan(193)]))
    assert all(o.ok for o in outcomes)
    for outcome in outcomes:
        calls = [e for e in harness.log() if e["params"].get("requestid") == outcome.requestid]
        submit = next(e for e in harness.log("exp_request") if e["index"] < calls[0]["index"])
        times = [submit["time"]] + [e["time"] for e in calls]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert len(gaps) >= 2
        assert min(gaps) >= 5


def test_a_failure_does_not_stop_the_others(harness):
    plans = [plan(94), plan(171, process="n=0|no_such_step,a=1"), plan(193, series="aia.no_such_series"), plan(304)]
    outcomes = list(harness.runner().iter_ready(plans))
    by_plan = {o.plan: o for o in outcomes}
    assert [by_plan[p].ok for p in plans] == [True, False, False, True]
    staged = by_plan[plans[1]]
    assert isinstance(staged, FailedExport)
    assert staged.status == 4
    assert staged.requestid.startswith("JSOC_")
    assert "Invalid process field value" in staged.message
    assert harness.ledger.get(staged.requestid).status == "failed"
    assert staged.requestid in str(staged.exception())
    refused = by_plan[plans[2]]
    assert (refused.status, refused.requestid) == (4, None)
    assert "does not exist" in refused.message


def test_foreign_pending_request_is_waited_out(harness, emulator, email, tmp_path):
    foreign = []

    def other_program(key):
        # Just before the second plan is submitted, another program exports for the same address.
        if key == request_key(ledger_params(plan(193), email)):
            client = drms.Client(server=emulator.server_config, email=email)
            foreign.append(client.export("hmi.M_45s[2014.01.01_00:00:00_TAI]", method="url", protocol="fits"))
            return True
        return False

    harness.ledger = RacingLedger(tmp_path / "foreign.sqlite", other_program)
    # The clock is read as each export is handed over.
    received = [(outcome, emulator.clock.now()) for outcome in harness.runner().iter_ready([plan(171), plan(193)])]
    (first, got_first), (second, _) = received
    assert first.ok
    assert second.ok
    assert second.requestid != foreign[0].id
    submits = harness.log("exp_request")
    refusals = [e for e in submits if e["jsoc_status"] == 7]
    # One refusal, then a wait on manage-request.sh checks, then one accepted submission.
    assert [e["jsoc_status"] for e in submits if e["params"]["ds"] == plan(193).ds] == [7, 2]
    accepted = submits[-1]
    assert (accepted["jsoc_status"], accepted["params"]["ds"]) == (2, plan(193).ds)
    # JSOC forgets a pending row after 60 minutes; nothing was cancelled.
    assert accepted["time"] - refusals[0]["time"] >= 3600
    # The first export was handed over before the wait, not an hour later.
    assert got_first < refusals[0]["time"] + 60
    checks = [e for e in emulator.request_log if e["endpoint"] == "manage_request"]
    assert all(e["params"]["operation"] == "check" for e in checks)
    gaps = [b["time"] - a["time"] for a, b in itertools.pairwise(checks)]
    assert min(gaps) >= 2
    assert max(gaps) <= 61
    assert len(checks) < 100  # pauses grew to a minute


def test_foreign_pending_request_is_cancelled_on_request(harness, emulator, email):
    emulator.set_export_faults(pending_elsewhere=email)
    start = emulator.clock.now()
    (outcome,) = harness.runner(cancel_foreign=True).iter_ready([plan()])
    assert outcome.ok
    assert "cancelled foreign pending request" in outcome.message
    operations = [e["params"]["operation"] for e in emulator.request_log if e["endpoint"] == "manage_request"]
    assert operations.count("cancel") == 1
    assert emulator.clock.now() - start < 60


def test_our_own_pending_request_is_adopted(harness, emulator):
    runner = harness.runner()
    earlier = harness.api.exp_request(plan(), harness.email)["requestid"]
    record(harness.ledger, earlier, plan(), harness.email)
    (outcome,) = runner.iter_ready([plan()])
    assert outcome.ok
    assert outcome.adopted
    assert outcome.requestid == earlier
    assert len(harness.log("exp_request")) == 1


class RacingLedger(Ledger):
    """
    Another program acts just after this client was given its turn to submit (``racer(key)``
    returns False while it waits for a later key): for example an earlier version of this client,
    which did not take turns, submitting and recording the same request.
    """

    def __init__(self, path, racer):
        super().__init__(path)
        self.racer = racer

    def take_intent(self, key):
        turn = super().take_intent(key)
        if self.racer is not None and turn.granted and self.racer(key) is not False:
            self.racer = None
        return turn


def test_status_7_naming_our_own_request_is_adopted(harness, tmp_path):
    raced = []

    def racer(key):
        raced.append(harness.api.exp_request(plan(), harness.email)["requestid"])
        record(harness.ledger, raced[0], plan(), harness.email)

    harness.ledger = RacingLedger(tmp_path / "race.sqlite", racer)
    (outcome,) = harness.runner().iter_ready([plan()])
    submits = harness.log("exp_request")
    assert [e["jsoc_status"] for e in submits] == [2, 7]
    assert outcome.ok
    assert outcome.adopted
    assert outcome.requestid == raced[0]
    assert harness.ledger.get(outcome.requestid).status == "complete"


def test_our_other_pending_request_is_finished_first_then_adopted(harness):
    runner = harness.runner()
    other = harness.api.exp_request(plan(304), harness.email)["requestid"]
    record(harness.ledger, other, plan(304), harness.email)
    first, second = runner.iter_ready([plan(171), plan(304)])
    assert first.ok
    assert not first.adopted
    assert second.ok
    assert second.adopted
    assert second.requestid == other
    assert [e["jsoc_status"] for e in harness.log("exp_request")] == [2, 7, 2]
    assert max(harness.live_pending) == 1


def test_rerun_and_expiry_with_the_same_ledger(harness, emulator):
    plans = [plan(171), plan(193)]
    first = list(harness.runner().iter_ready(plans))
    assert len(harness.log("exp_request")) == 2
    again = list(harness.runner().iter_ready(plans))
    assert len(harness.log("exp_request")) == 2
    assert [o.requestid for o in again] == [o.requestid for o in first]
    assert all(o.adopted for o in again)

    assert emulator.expire(first[0].requestid) == "expired"
    renewed = list(harness.runner().iter_ready(plans))
    assert len(harness.log("exp_request")) == 3
    assert renewed[0].requestid != first[0].requestid
    assert not renewed[0].adopted
    assert "expired" in renewed[0].message
    assert renewed[1].requestid == first[1].requestid
    assert harness.ledger.get(first[0].requestid).status == "expired"
    assert harness.ledger.get(renewed[0].requestid).status == "complete"

    list(harness.runner().iter_ready(plans))
    assert len(harness.log("exp_request")) == 3


def test_an_expired_ledger_request_is_staged_again_once(harness, emulator):
    runner = harness.runner()
    (ready,) = runner.iter_ready([plan()])
    again = [plan_from_params(harness.ledger.get(ready.requestid).params)]
    assert next(iter(harness.runner().iter_ready(again))).requestid == ready.requestid
    emulator.expire(ready.requestid)
    renewed = next(iter(harness.runner().iter_ready(again)))
    assert renewed.ok
    assert renewed.requestid != ready.requestid
    assert [e.status for e in harness.ledger.requests()] == ["expired", "complete"]
    assert [e.requestid for e in harness.ledger.requests("complete")] == [renewed.requestid]


@pytest.fixture
def timed_emulator(tmp_path, email):
    """An emulator whose exports complete by the clock: 10 s plus 1.5 s per im_patch record."""
    model = TimeModel(name="timed", fresh_wait=10, queue_delay=0, queue_jitter=0, overhead=10, per_file=0)
    with JSOCEmulator(time_model=model, image_size=64, registered=(email,), root=tmp_path / "sums") as emu:
        yield emu


def test_timeout_fails_one_export_and_the_others_go_on(timed_emulator, email, tmp_path):
    harness = Harness(timed_emulator, Ledger(tmp_path / "ledger.sqlite"), email)
    big = ExportPlan(
        "aia.lev1_euv_12s",
        "aia.lev1_euv_12s[2010-07-30T13:30:02Z/8m][171]{image}",
        IM_PATCH,
        "0.01",
        "url",
        "fits",
        FMT,
        None,
        171,
    )  # 40 records: about 70 s
    late, small, other = harness.runner(timeout=60).iter_ready([big, plan(193), plan(304)])
    assert isinstance(late, FailedExport)
    assert late.status is None
    assert late.requestid.startswith("JSOC_")
    assert "not complete after 60 s" in late.message
    assert late.kind == "timeout"
    assert isinstance(late.exception(), ExportTimeoutError)
    assert small.ok
    assert other.ok
    # The late export was not forgotten: the next plan waited for it (one pending request at a
    # time) and the ledger holds it for a later run, which adopts it and checks it against its plan
    # (only then is it "complete").
    assert harness.ledger.get(late.requestid).status == "submitted"
    (adopted,) = harness.runner().iter_ready([big])
    assert adopted.ok
    assert adopted.adopted
    assert adopted.requestid == late.requestid
    assert harness.ledger.get(late.requestid).status == "complete"
    assert max(harness.live_pending) == 1
    submits = harness.log("exp_request")
    assert [e["jsoc_status"] for e in submits] == [2, 7, 2, 2]
    # The first poll follows JSOC's wait hint (10 s), not min_poll.
    first_poll = harness.log("exp_status")[0]
    assert first_poll["time"] - submits[0]["time"] >= 10
    harness.api.close()


def _long_plan(wave):  # 40 records: 10 s plus 1.5 s a record on the timed emulator, 70 s
    ds = f"aia.lev1_euv_12s[2010-07-30T13:30:02Z/8m][{wave}]{{image}}"
    return ExportPlan("aia.lev1_euv_12s", ds, IM_PATCH, "0.01", "url", "fits", FMT, None, wave)


@pytest.mark.parametrize("paced", [True, False])
def test_polls_fall_when_the_request_should_be_ready(timed_emulator, email, tmp_path, paced):
    """
    With the pace of the run's finished requests, a poll falls when the next one should be ready,
    so it is found (and the next plan submitted) within about ``min_poll`` of its completion, not
    up to a grown interval later; and the polls stay few.
    """
    harness = Harness(timed_emulator, Ledger(tmp_path / "ledger.sqlite"), email)
    pace = StagingPace(overhead=20.0, per_record=1.0) if paced else None
    outcomes = list(harness.runner(min_poll=2, max_poll=60, pace=pace).iter_ready([_long_plan(w) for w in WAVES]))
    assert all(o.ok for o in outcomes)
    late, polls = [], []
    for outcome in outcomes:
        request = timed_emulator.exports.book.get(outcome.requestid)
        mine = [e for e in harness.log("exp_status") if e["params"]["requestid"] == outcome.requestid]
        found = next(e["time"] for e in mine if str(e["jsoc_status"]) == "0")
        late.append(found - request.ready_at)
        polls.append(len(mine))
    assert all(seconds >= 0 for seconds in late)
    if paced:
        assert max(late[1:]) <= 2.5, late  # found at the first poll after completion (min_poll 2 s)
        assert max(polls) <= 8, polls
    else:  # JSOC's hint and a growing interval alone: 10, 25, 47.5, 81.25 s after the submission
        assert min(late) > 10, late


def _lev1_plan(hour):  # 193 Å at one minute for 30 minutes: im_patch makes 29 cutouts; the @60s set holds fewer
    start, stop = f"2014-02-05T{hour:02d}:00:00.000", f"2014-02-05T{hour:02d}:30:00.000"
    ds = f"aia.lev1[2014.02.05_{hour:02d}:00:00_TAI-2014.02.05_{hour:02d}:29:59_TAI@60s][? WAVELNTH=193 ?]"
    process = (
        f"n=0|im_patch,t_start={start},t_stop={stop},t=0,r=0,c=0,cadence=60s,locunits=arcsec,"
        f"boxunits=arcsec,t_ref={start},x=0,y=0,width=100,height=100"
    )
    return ExportPlan("aia.lev1", ds, process, "0.01", "url", "fits", "{seriesname}.{T_REC:A}.{segment}", None, 193)


@pytest.mark.parametrize("planned", [True, False])
def test_the_planned_files_not_jsocs_rcount_set_when_a_request_should_be_ready(
    timed_emulator, email, tmp_path, planned
):
    """On ``aia.lev1`` with a cadence JSOC's ``rcount`` counts the ``@60s`` set, not the frames im_patch
    makes; the planned files say how long a request takes."""
    harness = Harness(timed_emulator, Ledger(tmp_path / "ledger.sqlite"), email)
    plans = [_lev1_plan(hour) for hour in (8, 9, 10)]
    runner = harness.runner(min_poll=2, max_poll=60, pace=StagingPace(overhead=20.0, per_record=1.0))
    outcomes = list(runner.iter_ready(plans, [29, 29, 29] if planned else None))
    assert all(o.ok for o in outcomes)
    late = []
    for outcome in outcomes:
        request = timed_emulator.exports.book.get(outcome.requestid)
        assert request.rcount < len(request.index["data"]) == 29
        found = next(
            e["time"]
            for e in harness.log("exp_status")
            if e["params"]["requestid"] == outcome.requestid and str(e["jsoc_status"]) == "0"
        )
        late.append(found - request.ready_at)
    if planned:
        assert max(late[1:]) <= 2.5, late
    else:
        assert max(late[1:]) > 2.5, late


def test_cancel_helper(harness, emulator):
    requestid = harness.api.exp_request(plan(), harness.email)["requestid"]
    record(harness.ledger, requestid, plan(), harness.email)
    with use_jsoc(emulator.url):
        with pytest.raises(JSOCExportError, match="no request"):
            jobs.cancel("JSOC_20000101_001", ledger=harness.ledger)
        assert jobs.cancel(requestid, ledger=harness.ledger) is True
    assert harness.ledger.get(requestid).status == "cancelled"
    assert harness.api.check_pending(harness.email) is None


def test_progress_bar_and_quiet_mode(harness, caplog):
    out = io.StringIO()
    (ready,) = harness.runner(progress=StagingProgress(file=out)).iter_ready([plan(171)])
    assert ready.requestid in out.getvalue()
    assert "1/1" in out.getvalue()
    caplog.clear()
    quiet = io.StringIO()
    with caplog.at_level("INFO", logger="sunpy"):
        list(harness.runner(progress=StagingProgress(enabled=False, file=quiet)).iter_ready([plan(193)]))
    assert quiet.getvalue() == ""
    assert not [r for r in caplog.records if r.levelname == "INFO"]


def test_progress_log_lines(harness, caplog):
    with caplog.at_level("INFO", logger="sunpy"):
        (ready,) = harness.runner(progress=StagingProgress(bar=False)).iter_ready([plan(171)])
    text = caplog.text
    assert f"JSOC export {ready.requestid} ready" in text
    assert "processing after" in text


def test_transport_failures_are_retried_then_reported(harness, emulator):
    emulator.faults.set("http500", "jsoc_fetch", times=1)
    (ready,) = harness.runner(retries=1).iter_ready([plan(171)])
    assert ready.ok
    emulator.faults.set("http500", "jsoc_fetch")
    broken, *_ = harness.runner(retries=1).iter_ready([plan(193)])
    assert broken.kind == "transport"
    assert isinstance(broken.exception(), JSOCHTTPError)
    assert "HTTP 500" in broken.message
    assert [e["status"] for e in harness.log() if e["params"].get("ds") == plan(193).ds] == [500, 500]


def test_a_request_answered_with_another_plans_id_is_refused(harness):
    # The same records written two ways: JSOC's duplicate rule (md5 of the canonical record list,
    # filenamefmt, process, protocol, method) answers the second with the first one's ID.
    first = plan(171)
    same_records = replace(first, recordset="aia.lev1_euv_12s[2010.07.30_13:30:36_TAI][171]{image}")
    assert request_key(ledger_params(first, harness.email)) != request_key(ledger_params(same_records, harness.email))
    ready, refused = harness.runner().iter_ready([first, same_records])
    assert ready.ok
    assert isinstance(refused, FailedExport)
    assert refused.kind == "mismatch"
    assert refused.requestid == ready.requestid
    assert "another plan" in refused.message
    assert isinstance(refused.exception(), ExportMismatchError)
    assert [e["jsoc_status"] for e in harness.log("exp_request")] == [2, 2]
    # the first plan's request is untouched, and nothing was recorded for the second
    assert harness.ledger.get(ready.requestid).status == "complete"
    assert harness.ledger.get(ready.requestid).params["ds"] == first.ds
    assert harness.ledger.request_for(request_key(ledger_params(same_records, harness.email))) is None


def test_a_completed_request_is_checked_before_it_is_handed_over(harness):
    refusals = []

    def check(p, requestid, reply):
        if p.wavelength == 193:
            refusals.append(requestid)
            return "not the planned records"
        return None

    outcomes = list(harness.runner(check=check).iter_ready([plan(171), plan(193)]))
    assert [o.ok for o in outcomes] == [True, False]
    assert outcomes[1].kind == "mismatch"
    assert harness.ledger.get(refusals[0]).status == "failed"  # never complete
    assert harness.ledger.get(outcomes[0].requestid).status == "complete"


def test_a_request_another_process_is_submitting_is_adopted_not_submitted_again(harness, emulator, tmp_path):
    # Another process with the same ledger holds the turn to submit this plan.
    key = request_key(ledger_params(plan(), harness.email))
    other = hold_intent(harness.ledger.path, key)
    paused = []

    def sleep(seconds):
        paused.append(seconds)
        if len(paused) == 1:  # meanwhile the other process submits, records its request and ends
            record(harness.ledger, harness.api.exp_request(plan(), harness.email)["requestid"], plan(), harness.email)
            other.kill()
            other.wait()
        harness.sleep(seconds)

    try:
        runner = harness.runner()
        runner.sleep = sleep
        (outcome,) = runner.iter_ready([plan()])
    finally:
        other.kill()
        other.wait()
    assert outcome.ok
    assert outcome.adopted
    assert [e["jsoc_status"] for e in harness.log("exp_request")] == [2]  # the other process's, only
    assert harness.ledger.get(outcome.requestid).status == "complete"
    assert paused[0] >= 2  # a polite pause, not a tight loop
