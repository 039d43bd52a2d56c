"""
The polite export scheduler: one pending JSOC export per user at a time, pipelined with downloads.

JSOC lets an address have one pending export (status 7 otherwise: ``CheckUserLoad`` in
``lm-jps/drms:base/export/apps/jsoc_fetch.c`` L1482-1625, its status-7 messages L3264-3287).
`ExportRunner.iter_ready` therefore submits the plans one after another: plan k+1 is submitted
as soon as plan k is complete (or failed), and only then is k handed to the caller, who downloads
it while k+1 is staged. Every request goes through the `~sunpy_jsoc_cutout._transfer.ledger.Ledger`, so a
re-run adopts earlier requests (pending or complete) instead of submitting them again, and an
expired one is submitted again once.

Status 7 names the pending request. If it is in the ledger under the same parameters, it is
adopted; if it is another of ours, it is polled to its end first; if the ledger holds only a
submission intent of this very plan (a run killed between JSOC accepting and the ledger write), it
is adopted; otherwise (a request made by another program for the same address) it is waited out
with growing pauses (JSOC forgets pending rows after 60 minutes) or, with ``cancel_foreign=True``,
cancelled through ``manage-request.sh``. The intent is cleared on every reply, refusals included
(after an accepted request is in the ledger, never before).

The intent is also the lock of two processes that plan the same request with one ledger
(`Ledger.take_intent`): while another running process holds it, this one waits with growing pauses
and then adopts the request that process recorded, instead of submitting it a second time.

Nothing is taken on trust: a request ID the ledger holds for another plan (JSOC's duplicate rule
answers with an earlier request's ID when record lists and options hash alike) is refused, and the
optional ``check(plan, requestid, reply)`` compares a completed request's records with the plan's
rows. A refusal is a `FailedExport` of kind ``"mismatch"``, never complete in the ledger.

Polling follows JSOC's ``wait`` hint, grown by ``backoff`` after each poll and kept within
``[min_poll, max_poll]`` seconds; with a `~sunpy_jsoc_cutout._transfer.pace.StagingPace`, one poll
falls when the request should be ready (from the pace of this run's finished requests), and the
interval grows again from ``min_poll`` if it is not, so that the next request is not submitted
half a ``max_poll`` late. A failure (JSOC status 3, 4, 5, 25..., a transport failure that
persists, or the per-export ``timeout``) becomes a `FailedExport` carrying the request ID and JSOC's
message; the other plans go on. ``clock`` and ``sleep`` are injectable (tests drive an emulator's
clock instead of waiting).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field

from sunpy import log

from sunpy_jsoc_cutout._jsoc.export import (
    REQUEST_ID_RE,
    FailedExport,
    JSOCExportAPI,
    ReadyExport,
    pending_request_id,
    reply_number,
    reply_status,
)
from sunpy_jsoc_cutout._plan.plans import ExportPlan
from sunpy_jsoc_cutout.config import conf_value
from sunpy_jsoc_cutout.exceptions import JSOCExportError, JSOCHTTPError
from .ledger import Ledger, RequestEntry, ledger_params, request_key
from .pace import StagingPace
from .progress import StagingProgress

__all__ = ["ExportRunner", "FailedExport", "ReadyExport", "runner_from_config"]

#: exp_status codes of a request still on its way (12, test mode, never completes: a failure).
PENDING = frozenset({1, 2, 6})
_UNKNOWN_ID = ("invalid export DRMS record", "Bad RequestID")


@dataclass
class _Job:
    plan: ExportPlan
    key: str
    params: dict
    deadline: float
    started: float
    requestid: str | None = None
    adopted: bool = False
    wait: float | None = None
    pause: float | None = None
    reply: dict | None = None
    notes: list[str] = field(default_factory=list)
    #: Unix time of an unfinished submission left in the ledger by an earlier (killed) run.
    previous_intent: float | None = None
    #: When this run's submission was accepted (runner clock), and its planned files (else JSOC's rcount).
    submitted: float | None = None
    records: int | None = None


class ExportRunner:
    """
    Submits export plans to JSOC one pending request at a time and yields them as they are ready.

    Parameters
    ----------
    api : JSOCExportAPI
        The JSOC export calls.
    ledger : Ledger
        Where requests are recorded and looked up.
    notify : str
        The JSOC-registered notification address.
    min_poll, max_poll : float
        Bounds of the interval between two status requests, in seconds.
    timeout : float
        Seconds allowed for one export, from its first submission attempt to completion.
    cancel_foreign : bool
        Cancel a pending request of the same address that is not in the ledger, instead of
        waiting it out (JSOC then forgets the pending row; that export still runs).
    backoff : float
        Factor by which the interval grows after each poll while JSOC's hint is smaller.
    retries : int
        Consecutive transport failures tolerated for one export.
    clock, sleep : callable
        Time source (seconds) and sleeping function.
    progress : bool or StagingProgress
        Show staging progress (a tqdm bar for True).
    check : callable, optional
        ``check(plan, requestid, reply)`` of every completed request before it is handed over:
        `None` to accept it, or why it is not the planned export (it then becomes a failure).
    pace : StagingPace, optional
        When a submitted request should be ready (polls fall then); None: JSOC's hint only.
    """

    def __init__(
        self,
        api: JSOCExportAPI,
        ledger: Ledger,
        *,
        notify: str,
        min_poll: float = 2.0,
        max_poll: float = 60.0,
        timeout: float = 6 * 3600.0,
        cancel_foreign: bool = False,
        backoff: float = 1.5,
        retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
        progress: bool | StagingProgress = False,
        check: Callable[[ExportPlan, str, dict], str | None] | None = None,
        pace: StagingPace | None = None,
    ) -> None:
        if min_poll <= 0 or max_poll < min_poll:
            raise ValueError(f"Need 0 < min_poll <= max_poll, not {min_poll} and {max_poll}.")
        self.api, self.ledger, self.notify = api, ledger, notify
        self.min_poll, self.max_poll, self.timeout = float(min_poll), float(max_poll), float(timeout)
        self.cancel_foreign, self.backoff, self.retries = cancel_foreign, float(backoff), int(retries)
        self.clock, self.sleep = clock, sleep
        self.progress = progress if isinstance(progress, StagingProgress) else StagingProgress(bool(progress))
        self.check = check
        self.pace = pace

    # ------------------------------------------------------------------ public
    def iter_ready(
        self, plans: Sequence[ExportPlan], files: Sequence[int] | None = None
    ) -> Generator[ReadyExport | FailedExport, None, None]:
        """
        Stage ``plans`` one at a time; yield each as a `ReadyExport` or `FailedExport`.

        ``files``, the number of files planned for each plan, sets when each request should be ready
        (with a pace); without it JSOC's ``rcount`` does, which on ``aia.lev1`` with a cadence counts
        the ``@`` set, not the frames im_patch picks.

        A ready export is yielded only after the next plan was submitted, so that the caller
        downloads it while the next one is staged. Failures are yielded at once.
        """
        held: list[ReadyExport] = []
        self.progress.begin(len(plans))
        try:
            for index, plan in enumerate(plans):
                job = self._job(plan)
                job.records = None if files is None else int(files[index])
                outcome = yield from self._submit(job, held)
                yield from self._release(held)
                if outcome is None:
                    outcome = self._wait(job)
                if outcome.ok:
                    held.append(outcome)
                else:
                    yield outcome
            yield from self._release(held)
        finally:
            self.progress.end()

    # ------------------------------------------------------------------ helpers
    def _job(self, plan: ExportPlan) -> _Job:
        params = ledger_params(plan, self.notify)
        now = self.clock()
        return _Job(plan, request_key(params), params, now + self.timeout, now)

    def _release(self, held: list) -> Iterator[ReadyExport]:
        while held:
            yield held.pop(0)

    def _pause(self, seconds: float, held: list) -> Iterator[ReadyExport]:
        """Hand over anything held (nothing is gained by keeping it while we wait), then sleep."""
        yield from self._release(held)
        self.sleep(seconds)

    def _interval(self, previous: float | None, hint: float | None, due: float | None = None) -> float:
        grown = self.min_poll if previous is None else previous * self.backoff
        if due is not None:  # no later than when the request should be ready
            grown = min(grown, due - self.clock())
        return min(self.max_poll, max(self.min_poll, grown, hint or 0.0))

    def _due(self, job: _Job) -> float | None:
        """Runner-clock time at which ``job``'s request should be ready (None: no estimate)."""
        if self.pace is None or job.submitted is None:
            return None
        expected = self.pace.expected(job.records)
        return None if expected is None else job.submitted + expected

    def _learn(self, job: _Job, seen_pending: float | None, found_done: float) -> None:
        """Tell the pace how long ``job`` took: at least until it was last seen pending.

        Found complete at its first poll, it took at most that long; nine tenths of it is tried next,
        so that an estimate that was late comes earlier until a poll sees a request pending.
        """
        if self.pace is None or job.submitted is None:
            return
        if seen_pending is not None:
            self.pace.finished(job.records, seen_pending - job.submitted)
        else:
            self.pace.finished(job.records, 0.9 * (found_done - job.submitted))

    def _fail(self, job: _Job, status: int | None, message: str, kind: str = "jsoc") -> FailedExport:
        requestid = job.requestid
        if requestid and self.ledger.get(requestid) is not None and status is not None:
            self.ledger.set_status(requestid, "failed", message)
        log.warning("JSOC export %s of %s failed (status %s): %s", requestid, job.plan.ds, status, message)
        self.progress.finished(requestid, False, message)
        return FailedExport(job.plan, requestid, status, message, kind)

    def _refuse(self, job: _Job, message: str) -> FailedExport:
        """A reply that is not this plan's export: a failure, and never complete in the ledger."""
        entry = self.ledger.get(job.requestid) if job.requestid else None
        if job.requestid and entry is not None and entry.key == job.key:
            self.ledger.set_status(job.requestid, "failed", message)
        log.warning("JSOC export %s refused for %s: %s", job.requestid, job.plan.ds, message)
        self.progress.finished(job.requestid, False, message)
        return FailedExport(job.plan, job.requestid, 0, message, "mismatch")

    def _ready(self, job: _Job, reply: dict) -> ReadyExport | FailedExport:
        problem = self.check(job.plan, job.requestid or "", reply) if self.check is not None else None
        if problem:
            return self._refuse(job, problem)
        if job.requestid and self.ledger.get(job.requestid) is not None:
            self.ledger.set_status(job.requestid, "complete")
        self.progress.finished(job.requestid, True)
        return ReadyExport(job.plan, job.requestid or "", reply, 0, "; ".join(job.notes), job.adopted)

    def _timed_out(self, job: _Job) -> bool:
        return self.clock() >= job.deadline

    # ------------------------------------------------------------------ submission
    def _submit(self, job: _Job, held: list):
        """Adopt or submit ``job``; returns None (then wait for it) or its final outcome."""
        entry = self.ledger.request_for(job.key)
        adopted = None if entry is None else self._adopt(job, entry)
        if adopted is True:
            return None if job.reply is None else self._ready(job, job.reply)
        if adopted is not None:
            return adopted
        errors = 0
        interval = None
        first = True
        while not self._timed_out(job):
            turn = self.ledger.take_intent(job.key)
            if turn.request is not None:  # another process submitted it meanwhile
                adopted = self._adopt(job, turn.request)
                if adopted is True:
                    return None if job.reply is None else self._ready(job, job.reply)
                if adopted is not None:
                    return adopted
                continue  # it had expired or JSOC forgot it: now marked so, and no longer offered
            if turn.holder is not None:
                job.pause = self._interval(job.pause, None)
                log.info(
                    "Another process (%s, pid %s) is submitting %s; waiting %.0f s to adopt its request",
                    turn.holder.host,
                    turn.holder.pid,
                    job.plan.ds,
                    job.pause,
                )
                yield from self._pause(job.pause, held)
                continue
            if first:
                job.previous_intent, first = turn.previous, False
            try:
                reply = self.api.exp_request(job.plan, self.notify)
            except JSOCHTTPError as err:
                errors += 1
                if errors > self.retries:  # the intent stays: JSOC may have accepted one of them
                    return self._fail(job, None, str(err), "transport")
                interval = self._interval(interval, None)
                log.info("exp_request failed (%s); trying again in %.0f s", err, interval)
                yield from self._pause(interval, held)
                continue
            status = reply_status(reply)
            if status == 7:
                self.ledger.clear_intent(job.key)  # refused: JSOC holds no request of this submission
                outcome = yield from self._pending(job, reply, held)
                if outcome == "retry":
                    continue
                return outcome
            try:
                return self._accepted(job, reply, status)
            finally:  # only once the request is in the ledger, so another process always sees one of them
                self.ledger.clear_intent(job.key)
        return self._fail(job, None, f"No export could be submitted within {self.timeout:.0f} s.", "timeout")

    def _accepted(self, job: _Job, reply: dict, status: int | None):
        requestid = str(reply.get("requestid") or "")
        job.requestid = requestid if REQUEST_ID_RE.fullmatch(requestid) else None
        if job.requestid and status in (0, 1, 2):
            job.submitted = self.clock()
            if job.records is None:
                job.records = _count(reply.get("rcount"))
            entry = self.ledger.add_request(job.key, job.requestid, job.params)
            if entry.key != job.key:
                text = (
                    f"JSOC answered this request with {job.requestid}, which is the request of another plan "
                    f"({entry.params.get('ds')}); its files are not this plan's."
                )
                return self._refuse(job, text)
            if entry.status not in ("submitted", "complete"):
                self.ledger.set_status(job.requestid, "submitted")
            self.progress.submitted(job.requestid, job.plan.ds)
            log.debug("JSOC export %s submitted: %s", job.requestid, job.plan.ds)
        if status == 0:
            return self._ready(job, reply)
        if status in (1, 2):
            job.wait = reply_number(reply.get("wait"))
            return None
        if status == 25 and job.requestid is None:
            named = REQUEST_ID_RE.search(str(reply.get("error", "")))
            job.requestid = named.group(0) if named else None
        return self._fail(job, status, str(reply.get("error") or f"JSOC status {status}"))

    def _adopt(self, job: _Job, entry: RequestEntry):
        """Reuse a ledger request: True (adopted), None (submit anew) or a `FailedExport`."""
        if entry.status == "expired":
            log.info("JSOC export %s expired; submitting %s again", entry.requestid, job.plan.ds)
            job.notes.append(f"{entry.requestid} had expired and was submitted again")
            return None
        try:
            reply = self.api.exp_status(entry.requestid)
        except JSOCHTTPError as err:
            log.info("Could not check %s (%s); adopting it anyway", entry.requestid, err)
            reply = {"status": 1}
        status = reply_status(reply)
        job.requestid, job.adopted = entry.requestid, True
        if status == 5:
            self.ledger.set_status(entry.requestid, "expired", str(reply.get("error", "")))
            job.notes.append(f"{entry.requestid} had expired and was submitted again")
            job.requestid, job.adopted = None, False
            return None
        if status == 4 and any(text in str(reply.get("error", "")) for text in _UNKNOWN_ID):
            self.ledger.set_status(entry.requestid, "failed", str(reply.get("error")))
            job.requestid, job.adopted = None, False
            return None
        if status != 0 and status not in PENDING:
            return self._fail(job, status, str(reply.get("error") or f"JSOC status {status}"))
        job.notes.append(f"adopted {entry.requestid} from the ledger")
        self.progress.submitted(entry.requestid, job.plan.ds, adopted=True)
        log.info("Adopting JSOC export %s for %s", entry.requestid, job.plan.ds)
        job.reply = reply if status == 0 else None
        job.wait = reply_number(reply.get("wait"))
        return True

    def _pending(self, job: _Job, reply: dict, held: list):
        """Status 7: adopt our own request, wait for another of ours, or wait out / cancel a foreign one."""
        message = str(reply.get("error", ""))
        pid = pending_request_id(message)
        entry = self.ledger.get(pid) if pid else None
        self.progress.polled(pid or "?", 7, self.clock() - job.started, None)
        if entry is None and pid and self._interrupted_submission(job):
            # our own earlier run was killed after JSOC accepted it and before the ledger heard of it
            entry = self.ledger.add_request(job.key, pid, job.params)
            self.ledger.clear_intent(job.key)
            log.info("JSOC names %s pending: the request of an interrupted run of ours, adopted", pid)
        if entry is not None and pid and entry.key == job.key:
            job.requestid, job.adopted = pid, True
            job.notes.append(f"adopted pending {pid} from the ledger")
            self.progress.submitted(pid, job.plan.ds, adopted=True)
            log.info("JSOC says %s is pending: our own request for %s, adopted", pid, job.plan.ds)
            return None
        if entry is not None and pid:
            log.info("Waiting for our earlier request %s before submitting %s", pid, job.plan.ds)
            yield from self._finish_other(job, pid, held)
        elif pid and self.cancel_foreign and self.api.cancel_pending(self.notify, pid):
            log.info("Cancelled the pending request %s of %s (not made by this ledger)", pid, self.notify)
            job.notes.append(f"cancelled foreign pending request {pid}")
        else:
            log.info("JSOC: %s; waiting for it before submitting %s", message, job.plan.ds)
            yield from self._wait_foreign(job, pid, held)
        if self._timed_out(job):
            text = f"{message} It was still pending after {self.timeout:.0f} s."
            return self._fail(job, 7, text, "pending")
        return "retry"

    def _interrupted_submission(self, job: _Job) -> bool:
        """Whether an earlier run left an unfinished submission of this job, within JSOC's 60-minute pending window."""
        started = job.previous_intent
        return started is not None and 0 <= time.time() - started < 3600

    def _finish_other(self, job: _Job, pid: str, held: list):
        """Poll our own other request ``pid`` until it leaves the pending states (ledger updated)."""
        while not self._timed_out(job):
            job.pause = self._interval(job.pause, None)
            yield from self._pause(job.pause, held)
            try:
                reply = self.api.exp_status(pid)
            except JSOCHTTPError:
                continue
            status = reply_status(reply)
            if status in PENDING:
                continue
            # a completed one stays "submitted": it is "complete" once its own plan checked it (`_ready`)
            if status != 0:
                self.ledger.set_status(pid, "expired" if status == 5 else "failed", str(reply.get("error", "")))
            return

    def _wait_foreign(self, job: _Job, pid: str | None, held: list):
        """Wait, with growing pauses, until the address has no pending request (or time is up)."""
        while not self._timed_out(job):
            job.pause = self._interval(job.pause, None)
            yield from self._pause(job.pause, held)
            try:
                pending = self.api.check_pending(self.notify)
            except JSOCExportError as err:
                log.debug("manage-request check failed: %s", err)
                if pid is None:
                    return
                continue
            if pending is None:
                return

    # ------------------------------------------------------------------ polling
    def _wait(self, job: _Job) -> ReadyExport | FailedExport:
        """Poll ``job``'s request until it is complete, failed or out of time."""
        requestid = job.requestid
        if requestid is None:
            raise RuntimeError(f"no JSOC request to wait for ({job.plan.ds})")
        due = self._due(job)
        interval = self._interval(None, job.wait, due)
        errors, seen_pending = 0, None
        while True:
            if self.clock() + interval > job.deadline:
                message = (
                    f"JSOC export {job.requestid} was not complete after {self.timeout:.0f} s; it may still "
                    "complete at JSOC, and a later run with the same ledger will adopt it."
                )
                return self._fail(job, None, message, "timeout")
            self.sleep(interval)
            try:
                reply = self.api.exp_status(requestid)
            except JSOCHTTPError as err:
                errors += 1
                if errors > self.retries:
                    return self._fail(job, None, str(err), "transport")
                interval = self._interval(interval, None)
                continue
            errors = 0
            status, hint, now = reply_status(reply), reply_number(reply.get("wait")), self.clock()
            self.progress.polled(requestid, status, now - job.started, hint)
            if status == 0:
                self._learn(job, seen_pending, now)
                return self._ready(job, reply)
            if status not in PENDING:
                return self._fail(job, status, str(reply.get("error") or f"JSOC status {status}"))
            seen_pending = now
            if due is not None and now >= due:  # later than expected: poll soon again, then less often
                due, interval = None, self._interval(None, hint)
            else:
                interval = self._interval(interval, hint, due)


def _count(value) -> int | None:
    number = reply_number(value)
    return None if number is None or number <= 0 else int(number)


def runner_from_config(api: JSOCExportAPI, ledger: Ledger, notify: str, **options) -> ExportRunner:
    """An `ExportRunner` with the polling bounds, timeout and cost estimates of ``sunpy_jsoc_cutout.config.conf``."""
    settings = {
        "min_poll": conf_value("min_poll"),
        "max_poll": conf_value("max_poll"),
        "timeout": conf_value("export_timeout"),
        "pace": StagingPace(conf_value("request_overhead"), conf_value("staging_per_record")),
    }
    return ExportRunner(api, ledger, notify=notify, **{**settings, **options})
