"""The export manager of the JSOC emulator: ``jsoc_fetch`` (``exp_request``, ``exp_status``),
``checkAddress.sh`` and ``manage-request.sh``, without HTTP.

``exp_request`` applies JSOC's checks in JSOC's order (``lm-jps/drms:base/export/apps/jsoc_fetch.c``
L3131-4426): illegal text, the notification address, the pending-request limits (one per address
within 60 minutes, more than 10 per IP refused: status 7), the record-set spec, the automatic
``[? drms.image_exists(quality) ?]``, the record-count cap, the canonical ``[:#recnum,...]``
spec, the 24 hour duplicate table (same request id, status 2), the size limits (status 3),
``url_quick``/``as-is`` (immediate status 0) and otherwise a new ``JSOC_YYYYMMDD_NNN`` request
(status 2). Files are made by worker threads (one export at a time by default, like JSOC's
manager) with `~sunpy_jsoc_cutout.testing.exports.staging.stage_export`; ``exp_status`` reports 0 only
when the time model is satisfied **and** the files exist.

The manager is composed of parts it owns: the export table and status machine
(`~sunpy_jsoc_cutout.testing.exports.book.ExportBook`, whose lock guards every request), the
staging worker (`~sunpy_jsoc_cutout.testing.exports.worker.StagingWorker`), the export-level fault
knobs (`~sunpy_jsoc_cutout.testing.exports.state.ExportFaults`) and the test controls
(`~sunpy_jsoc_cutout.testing.exports.controls.ExportControls`).

``manage-request.sh`` (``lm-jps/drms:base/export/scripts/manage-request.py``): parameters
``address`` and ``operation`` (``check`` or ``cancel``); replies ``{"status": "<n>", "msg"}`` with
string statuses 1 (not pending), 2 (pending) and 3 (canceled). As at JSOC, cancelling only
deletes the pending-request row (the address may submit again); the export itself runs on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sunpy import log

from sunpy_jsoc_cutout.testing.catalogue.records import Records
from sunpy_jsoc_cutout.testing.processing.process import ProcessChain, parse_process, size_ratio
from . import rules
from .addresses import AddressBook
from .book import ExportBook
from .clock import Clock
from .controls import ExportControls
from .rules import ExportRequestError
from .staging import StagingFaults, size_in_mb
from .state import OFFLINE, ExportFaults, ExportRequest, manage_request_reply
from .timemodel import FAST, TimeModel
from .worker import StagingWorker

__all__ = ["ExportManager", "Submission"]

NO_NOTIFY = "Email address for notification was not specified. It is required."


@dataclass(frozen=True)
class Submission:
    """
    An ``exp_request`` that passed JSOC's checks, before it becomes a row of the export table.

    Attributes
    ----------
    args : ExportArgs
        The effective arguments.
    chain : ProcessChain
        The parsed ``process`` value.
    records : Records
        The records opened from the (canonical) record-set spec.
    dataset : str
        The record-set spec as opened.
    md5 : str
        The duplicate-table key.
    size : int
        Estimated size in MB.
    nfiles : int
        Estimated number of files.
    ip : str
        The client's address.
    """

    args: rules.ExportArgs
    chain: ProcessChain
    records: Records
    dataset: str
    md5: str
    size: int
    nfiles: int
    ip: str


class ExportManager:
    """
    JSOC's export system, for the emulator's HTTP server.

    Parameters
    ----------
    catalogue : Catalogue
        The records (``get_series``, ``query``).
    store : FileStore
        Where export directories are made (its ``image_size`` sets the rendered size).
    clock : Clock, optional
        The emulator clock (a new one if omitted).
    model : TimeModel, optional
        The time model (`~sunpy_jsoc_cutout.testing.exports.timemodel.FAST` by default).
    record_limits : Mapping, optional
        Record cap per series name or instrument (default ``{"aia": 15000, "hmi": 32000}``).
    addresses : AddressBook, optional
        Registered addresses.
    workers : int
        Export worker threads (JSOC's manager runs one export at a time: 1).
    seed : int
        Accepted for symmetry with the other parts (the time model carries its own seed).
    """

    def __init__(
        self,
        catalogue,
        store,
        clock: Clock | None = None,
        model: TimeModel = FAST,
        *,
        record_limits: Mapping[str, int | None] | None = None,
        addresses: AddressBook | None = None,
        workers: int = 1,
        seed: int = 0,
    ):
        self.catalogue = catalogue
        self.store = store
        self.clock = clock or Clock()
        self.model = model
        self.record_limits = dict(rules.DEFAULT_RECORD_LIMITS if record_limits is None else record_limits)
        self.addresses = addresses or AddressBook()
        self.seed = seed
        self.max_requests: dict[str, int] = {}
        self.book = ExportBook(self.clock, model, store)
        self.faults = ExportFaults()
        self.worker = StagingWorker(self.book, catalogue, store, workers=workers)
        self.controls = ExportControls(self.book, self.faults, catalogue.tape)

    # ------------------------------------------------------------------ life cycle
    def start(self) -> None:
        """Start the worker threads (also done on the first export)."""
        self.worker.start()

    def close(self) -> None:
        """Stop the worker threads (pending jobs are abandoned)."""
        self.worker.close()

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until no export is queued or being staged; return False on timeout."""
        return self.worker.wait_idle(timeout)

    # ------------------------------------------------------------------ addresses
    def register_address(self, email: str) -> None:
        """Register a notification address."""
        self.addresses.register(email)

    def check_address(self, params: Mapping[str, str]) -> dict:
        """``checkAddress.sh`` (see `~sunpy_jsoc_cutout.testing.exports.addresses`)."""
        return self.addresses.check_address(params)

    def set_max_requests(self, address: str, count: int) -> None:
        """``jsoc.export_pending_max_reqs``: let ``address`` have ``count`` pending requests."""
        self.max_requests[address.lower()] = int(count)

    # ------------------------------------------------------------------ exp_request
    def exp_request(self, params: Mapping[str, str], client_ip: str = "127.0.0.1") -> dict:
        """
        ``jsoc_fetch?op=exp_request``.

        Parameters
        ----------
        params : Mapping
            Decoded request parameters (drms's ``process=n`` key included).
        client_ip : str
            The client's address (pending-request limit per IP).

        Returns
        -------
        dict
            JSOC's JSON reply.
        """
        try:
            rules.check_illegal_text(params)
            args = rules.normalise_args(params)
            self._check_notify(args.notify)
            with self.book.lock:
                self.book.refresh_all()
                self._check_load(args.notify, client_ip)
            return self._accept(args, parse_process(args.process), client_ip)
        except ExportRequestError as err:
            return err.reply

    def _check_notify(self, notify: str) -> None:
        if not notify:
            raise ExportRequestError(4, NO_NOTIFY)
        reply = self.addresses.check(notify, checkonly=True)
        if reply["status"] != 2:
            raise ExportRequestError(4, f"Cannot process your request. {reply['msg']}")

    def _check_load(self, notify: str, ip: str) -> None:
        now = self.clock.now()
        rows = self.book.pending.for_address(notify, now)
        if len(rows) > self.max_requests.get(notify.lower(), 0):
            ids = ",".join(r.requestid or "[ UNKNOWN ]" for r in rows)
            raise ExportRequestError(
                7,
                f"User {notify} has {len(rows)} pending export requests ({ids}); please wait "
                "until at least one request has completed before submitting a new one.",
            )
        if self.book.pending.count_ip(ip, now) > 10:
            raise ExportRequestError(
                7,
                f"There are too many requests from {notify}; please wait until one or more "
                "requests have completed before submitting a new one.",
            )

    def _accept(self, args: rules.ExportArgs, chain, client_ip: str) -> dict:
        records, canonical, dataset = rules.open_records(self.catalogue, args, chain.limit, self.record_limits)
        md5 = rules.md5_key(canonical, args.filenamefmt, args.process, args.protocol, args.method)
        with self.book.lock:
            duplicate = self._duplicate_reply(md5, args, len(records))
        if duplicate is not None:
            return duplicate
        ratio = size_ratio(chain) if args.processing_json else None
        nbytes, nfiles, compressed = rules.estimate_size(records, args.sizeratio if ratio is None else ratio)
        size = size_in_mb(nbytes)
        quick = args.method == "url_quick" and args.protocol in ("as-is", "su-as-is")
        if quick and nfiles == 0:
            raise ExportRequestError(4, "There are no files in this RecordSet")
        limit = rules.size_limit(compressed, args.protocol)
        if size > limit:
            return {
                "requestid": "VOID",
                "method": args.method,
                "protocol": args.protocol,
                "wait": 0,
                "status": 3,
                "count": len(records),
                "size": size,
                "error": f"Request exceeds max byte limit of {limit}MB",
            }
        submission = Submission(
            args=args, chain=chain, records=records, dataset=dataset, md5=md5, size=size, nfiles=nfiles, ip=client_ip
        )
        if self.faults.offline:
            return self._offline(submission)
        on_tape = frozenset(records.offline_sunums())
        if quick and not on_tape:  # url_quick is immediate only when everything is online
            return rules.quick_reply(records, args.method, args.protocol, size)
        with self.book.lock:
            request = self._new_request(submission, on_tape)
            self.worker.submit(request)
        return {
            "status": 2,
            "requestid": request.requestid,
            "method": args.method,
            "protocol": args.protocol,
            "wait": round(self.model.fresh_wait),
            "rcount": request.rcount,
            "size": size,
        }

    def _offline(self, submission: Submission) -> dict:
        """Status 25: JSOC records the request (status 25, no pending row) and asks for help."""
        with self.book.lock:
            now = self.clock.now()
            request = self._request_row(submission, 0, now, now, now)
            request.state = "offline"
            self.book.add(request)
        return {"status": 25, "error": OFFLINE + request.requestid, "requestid": request.requestid}

    def _duplicate_reply(self, md5: str, args: rules.ExportArgs, rcount: int) -> dict | None:
        now = self.clock.now()
        existing = self.book.get(self.book.dups.find(md5, now) or "")
        if existing is None or existing.state in ("failed", "deleted"):
            return None
        wait = max(0, round(existing.est_time - now))
        return {
            "status": 2,
            "requestid": existing.requestid,
            "method": args.method,
            "protocol": args.protocol,
            "wait": wait,
            "rcount": rcount,
            "size": existing.size,
        }

    def _new_request(self, submission: Submission, on_tape: frozenset = frozenset()) -> ExportRequest:
        args = submission.args
        now = self.clock.now()
        serial = self.book.next_serial()
        delay = self.model.completion_delay(
            serial,
            submission.nfiles,
            len(submission.records),
            submission.chain.step_names,
            args.method.endswith("-tar"),
        )
        delay += self.model.tape_delay if on_tape else 0.0
        request = self._request_row(
            submission,
            serial,
            now,
            now + self.model.fresh_wait,
            now + delay,
            faults=StagingFaults(**self.faults.take(args.method)),
            tape_sunums=on_tape,
        )
        requestid = request.requestid
        self.book.add(request)
        self.book.pending.add(args.notify, submission.ip, requestid, now)
        self.book.dups.add(submission.md5, requestid, now)
        log.debug("export %s accepted: %s", requestid, submission.dataset)
        return request

    def _request_row(self, submission: Submission, serial: int, now: float, est: float, ready: float, **extra):
        """A new row of the export table with the next request id of the day."""
        args = submission.args
        return ExportRequest(
            requestid=self.book.next_id(now),
            serial=serial,
            notify=args.notify,
            ip=submission.ip,
            dataset=submission.dataset,
            records=submission.records,
            chain=submission.chain,
            method=args.method,
            protocol=args.protocol,
            filenamefmt=args.filenamefmt,
            md5=submission.md5,
            rcount=len(submission.records),
            size=submission.size,
            nfiles=submission.nfiles,
            submitted=now,
            est_time=est,
            ready_at=ready,
            **extra,
        )

    # ------------------------------------------------------------------ exp_status
    def exp_status(self, params: Mapping[str, str]) -> dict:
        """
        ``jsoc_fetch?op=exp_status``: status 1 while queued or processing (``wait`` counts down
        from ``EstTime`` and goes negative), the ``index.json`` content when done, 4 for a
        failed request, 5 for an expired one.
        """
        try:
            rules.check_illegal_text(params)
        except ExportRequestError as err:
            return err.reply
        requestid = params.get("requestid", "")
        if not rules.REQUEST_ID_RE.search(requestid):
            return {"status": 4, "error": f"Bad RequestID '{requestid}' provided."}
        with self.book.lock:
            request = self.book.get(requestid)
            if request is None:
                return {"status": 4, "error": f"invalid export DRMS record for ID `%s`{requestid}"}
            now = self.clock.now()
            self.book.poll(request, now)
            return request.status_reply(now)

    # ------------------------------------------------------------------ manage-request.sh
    def manage_request(self, params: Mapping[str, str]) -> dict:
        """``manage-request.sh?address=...&operation=check|cancel`` (see the module docstring)."""
        with self.book.lock:
            self.book.refresh_all()
            return manage_request_reply(
                self.book.pending,
                params,
                self.clock.now(),
                lambda t: self.clock.to_datetime(t).strftime("%Y-%m-%d %H:%M:%S"),
            )

    # ------------------------------------------------------------------ knobs and inspection
    def set_faults(self, **knobs) -> dict:
        """Export-level faults (see `~sunpy_jsoc_cutout.testing.exports.controls.ExportControls.set_faults`)."""
        return self.controls.set_faults(**knobs)

    def fault_state(self) -> dict:
        """The export-level knobs (and the storage units on tape)."""
        return self.controls.fault_state()

    def expire(self, requestid: str) -> str:
        """Make a completed request expire now; returns ``expired``, ``not completed`` or ``unknown``."""
        return self.controls.expire(requestid)

    def request(self, requestid: str) -> ExportRequest | None:
        """The request object (for tests and the control API)."""
        return self.book.get(requestid)

    def state(self) -> dict:
        """JSON-serialisable picture of the manager."""
        with self.book.lock:
            self.book.refresh_all()
            now = self.clock.now()
            return {
                "requests": self.book.describe(),
                "pending": self.book.pending.describe(now),
                "duplicates": len(self.book.dups.rows),
                "registered": self.addresses.registered(),
                "time_model": self.model.name,
                "outstanding": self.worker.outstanding,
                "faults": self.fault_state(),
            }
