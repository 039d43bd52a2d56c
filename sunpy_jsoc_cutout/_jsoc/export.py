"""
The JSOC export calls the client makes itself: ``jsoc_fetch`` (``exp_request``, ``exp_status``) and
``manage-request.sh`` (check or cancel the address's pending request).

drms cannot send ``sizeratio`` (``drms.Client.export`` and ``drms.json.HttpJsonClient.exp_request``
take no such argument: ``sunpy/drms:drms/client.py``, ``drms/json.py``), so without it a cut-out is
charged at the full-disk size (``apply_size_ratio`` in ``lm-jps/drms:base/export/apps/jsoc_fetch.c``
L1628-1672) and large requests are refused (status 3, sunpy/drms issue #57). `JSOCExportAPI.exp_request` sends the
parameters the JSOC export page sends, ``sizeratio`` included, with one `requests.Session` and a
timeout on every call. Replies are JSOC's JSON, returned as dicts; JSOC reports its own errors
inside the JSON (``status``/``error``), so only transport failures raise `JSOCHTTPError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from sunpy import log

from sunpy_jsoc_cutout._plan.plans import ExportPlan
from sunpy_jsoc_cutout.config import conf_value
from sunpy_jsoc_cutout.exceptions import (
    ExportMismatchError,
    ExportTimeoutError,
    JSOCExportError,
    JSOCHTTPError,
    PendingExportError,
)
from sunpy_jsoc_cutout.version import version as _version

__all__ = [
    "REQUEST_ID_RE",
    "FailedExport",
    "JSOCExportAPI",
    "ReadyExport",
    "export_params",
    "pending_request_id",
    "reply_number",
    "reply_status",
]

#: A JSOC request ID (``jsoc_fetch.c``'s check, plus the pass-through ``_X`` form).
REQUEST_ID_RE = re.compile(r"JSOC_[0-9]{8}_[0-9]+(?:_X)?(?:_IN)?")
_PENDING_LIST_RE = re.compile(r"pending export requests? \(([^)]*)\)")
_MANAGE_ID_RE = re.compile(r"request_id=([^,\]\s]+)")


def export_params(plan: ExportPlan, notify: str) -> dict[str, str]:
    """
    The ``jsoc_fetch?op=exp_request`` parameters of a plan, as the JSOC export page sends them.

    ``process`` carries ``n=<limit>|step,...``; ``requestor`` is sent only when the plan has one.

    Parameters
    ----------
    plan : `~sunpy_jsoc_cutout._plan.plans.ExportPlan`
        The export.
    notify : str
        The JSOC-registered notification address.
    """
    params = {
        "op": "exp_request",
        "format": "json",
        "ds": plan.ds,
        "process": plan.process,
        "sizeratio": str(plan.sizeratio),
        "method": plan.method,
        "protocol": plan.protocol,
        "filenamefmt": plan.filenamefmt,
        "notify": notify,
    }
    if plan.requestor:
        params["requestor"] = plan.requestor
    return params


def reply_status(reply: dict) -> int | None:
    """JSOC's ``status`` as an int (``index.json`` holds strings), None if absent or not a number."""
    try:
        return int(reply["status"])
    except (KeyError, TypeError, ValueError):
        return None


def reply_number(value) -> float | None:
    """A numeric member of a JSOC reply (e.g. ``wait``) as a float, None if absent or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def pending_request_id(message: str | None) -> str | None:
    """
    The pending request's ID in a JSOC status-7 message (or a ``manage-request.sh`` message).

    Parameters
    ----------
    message : str or None
        E.g. ``"User a@b.c has 1 pending export requests (JSOC_20260101_007); please wait ..."``.

    Returns
    -------
    str or None
        The first request ID named, or None (e.g. for the per-IP message, which names none).

    Examples
    --------
    >>> from sunpy_jsoc_cutout._jsoc.export import pending_request_id
    >>> pending_request_id("User a@b.c has 1 pending export requests (JSOC_20260101_007); please wait")
    'JSOC_20260101_007'
    >>> pending_request_id("There are too many requests from a@b.c; please wait") is None
    True
    """
    if not message:
        return None
    for pattern in (_PENDING_LIST_RE, _MANAGE_ID_RE):
        found = pattern.search(message)
        if found:
            named = REQUEST_ID_RE.search(found.group(1))
            if named:
                return named.group(0)
    return None


@dataclass(frozen=True)
class ReadyExport:
    """
    A staged export, ready to download.

    Attributes
    ----------
    plan : ExportPlan
        The plan it was made for.
    requestid : str
        JSOC's request ID (empty for an immediate ``url_quick`` reply).
    index : dict
        JSOC's reply (``index.json``: ``dir``, ``data`` rows, ``tarfile``...).
    status : int
        JSOC's status (0).
    message : str
        What happened (e.g. that an earlier request was adopted).
    adopted : bool
        Whether an earlier request was reused (no new ``exp_request``).
    """

    plan: ExportPlan
    requestid: str
    index: dict
    status: int = 0
    message: str = ""
    adopted: bool = False
    ok = True


@dataclass(frozen=True)
class FailedExport:
    """
    An export JSOC refused or failed, or that did not complete in time.

    Attributes
    ----------
    plan : ExportPlan
        The plan.
    requestid : str or None
        JSOC's request ID, if one was issued.
    status : int or None
        JSOC's status (None for a timeout or a transport failure).
    message : str
        JSOC's message, or what went wrong.
    kind : str
        ``"jsoc"`` (JSOC refused or failed it), ``"timeout"``, ``"pending"`` (status 7 that could
        not be waited out), ``"transport"`` (JSOC could not be reached) or ``"mismatch"`` (JSOC's
        reply is not the planned export: another plan's request ID, other records, no file).
    """

    plan: ExportPlan
    requestid: str | None
    status: int | None
    message: str
    kind: str = "jsoc"
    ok = False

    def exception(self) -> JSOCExportError:
        """The matching exception (not raised), e.g. for ``parfive.Results.add_error``."""
        text = f"{self.message} [request {self.requestid or 'none'}, status {self.status}]"
        cls = {
            "timeout": ExportTimeoutError,
            "pending": PendingExportError,
            "transport": JSOCHTTPError,
            "mismatch": ExportMismatchError,
        }
        return cls.get(self.kind, JSOCExportError)(text)


class JSOCExportAPI:
    """
    JSOC's export CGIs over HTTP.

    Parameters
    ----------
    base_url : str
        The JSOC site, e.g. ``http://jsoc.stanford.edu/``; the CGIs are under ``cgi-bin/ajax/``.
    timeout : float, optional
        Seconds allowed for connecting and for each read of one call (default
        ``conf.fetch_timeout``, 60 s).
    session : `requests.Session`, optional
        The session to use (a new one otherwise; closed by `close` only if made here).
    dbhost : str or None
        The database host sent to ``manage-request.sh`` as ``H``, as the JSOC export page sends
        it on the public site (``exportdata.html`` L453-457: ``hmidb2``); the script's own default
        is the web server's ``SERVER`` parameter (``manage-request.py`` L94, L127). None sends none.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | None = None,
        session: requests.Session | None = None,
        dbhost: str | None = "hmidb2",
    ) -> None:
        self.dbhost = dbhost
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.cgi_url = self.base_url + "cgi-bin/ajax/"
        self.timeout = conf_value("fetch_timeout") if timeout is None else float(timeout)
        self._own_session = session is None
        self.session = session or requests.Session()
        if self._own_session:
            self.session.headers["User-Agent"] = f"sunpy_jsoc_cutout/{_version}, requests/{requests.__version__}"

    def __enter__(self) -> JSOCExportAPI:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the session if this object made it."""
        if self._own_session:
            self.session.close()

    def _call(self, script: str, params: dict[str, str]) -> dict:
        url = self.cgi_url + script
        try:
            response = self.session.get(url, params=params, timeout=self.timeout)
        except requests.RequestException as err:
            raise JSOCHTTPError(f"Could not reach JSOC ({script}): {err}", url) from err
        if response.status_code != 200:
            raise JSOCHTTPError(
                f"JSOC answered HTTP {response.status_code} to {script}.", url, status_code=response.status_code
            )
        try:
            reply = response.json()
        except ValueError as err:
            raise JSOCHTTPError(f"JSOC's reply to {script} is not JSON: {response.text[:200]!r}", url, 200) from err
        if not isinstance(reply, dict):
            raise JSOCHTTPError(f"JSOC's reply to {script} is not a JSON object: {reply!r:.200}", url, 200)
        return reply

    def exp_request(self, plan: ExportPlan, notify: str) -> dict:
        """
        Submit ``plan`` (``jsoc_fetch?op=exp_request``) and return JSOC's reply.

        Raises
        ------
        JSOCHTTPError
            On a transport failure (JSOC's own refusals come back in the reply).
        """
        log.debug("JSOC exp_request %s (process %s)", plan.ds, plan.process)
        return self._call("jsoc_fetch", export_params(plan, notify))

    def exp_status(self, requestid: str) -> dict:
        """``jsoc_fetch?op=exp_status`` of ``requestid``: ``index.json`` when done, else a status reply."""
        return self._call("jsoc_fetch", {"op": "exp_status", "requestid": requestid, "format": "json"})

    def _manage(self, notify: str, operation: str) -> dict:
        params = {"address": notify, "operation": operation}
        if self.dbhost:
            params["H"] = self.dbhost
        reply = self._call("manage-request.sh", params)
        if str(reply.get("status")) not in ("1", "2", "3"):
            raise JSOCExportError(f"manage-request.sh {operation} failed: {reply.get('msg', reply)}")
        return reply

    def check_pending(self, notify: str) -> str | None:
        """
        The ID of the pending export request of ``notify``, or None if it has none.

        Raises
        ------
        JSOCExportError
            If JSOC cannot tell (e.g. more than one pending row).
        """
        reply = self._manage(notify, "check")
        if str(reply["status"]) == "1":
            return None
        return pending_request_id(reply.get("msg")) or ""

    def cancel_pending(self, notify: str, requestid: str) -> bool:
        """
        Cancel the pending request ``requestid`` of ``notify``.

        JSOC only deletes the pending-request row (the address may submit again); the export
        itself runs on. Nothing is cancelled if the address's pending request is another one.

        Returns
        -------
        bool
            Whether JSOC reported the request cancelled.
        """
        pending = self.check_pending(notify)
        if pending != requestid:
            log.debug("Not cancelling %s: the pending request of %s is %s", requestid, notify, pending)
            return False
        reply = self._manage(notify, "cancel")
        return str(reply["status"]) == "3"
