"""Registered notification addresses and the ``checkAddress.sh`` reply.

JSOC's ``checkAddress.py`` (``lm-jps/drms:base/export/scripts/checkAddress.py``: arguments
L76-104, status codes L30-40, messages L104-219, reply L249-252) answers
``{"status": <int>, "msg": "<text>"}``:

====  =====================================================================================
 1    registration initiated (an unknown address without ``checkonly``)
 2    ``Email address is valid and registered.``
 3    ``Email-address registration is pending. Please wait and try again later.``
 4    ``email address has been neither validated nor registered`` (``checkonly=1``)
 -2   ``Missing required argument 'address'.`` / ``Not a valid email address.``
====  =====================================================================================

drms double-encodes the address (``user%2540example.com``); the script unquotes it once more,
the emulator unquotes until the text is stable. Registered addresses compare
case-insensitively (JSOC's address lookup lower-cases them). The 2022 script also returns a
``user_id``; the replies recorded from the live server (sunpy's cassettes) do not, and neither
does the emulator.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from urllib.parse import unquote

__all__ = ["ADDRESS_RE", "AddressBook", "unquote_stable"]

ADDRESS_RE = re.compile(r"\s*[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,6}")

MSG_REGISTERED = "Email address is valid and registered."
MSG_PENDING = "Email-address registration is pending. Please wait and try again later."
MSG_UNREGISTERED = "email address has been neither validated nor registered"
MSG_MISSING = "Missing required argument 'address'."
MSG_INVALID = "Not a valid email address."
MSG_INITIATED = (
    "Your email address has not been registered for use with the export system - starting registration "
    "process. You will receive an email address from user jsoc. Please reply to this email message within "
    "{timeout} minutes without modifying the body."
)


def unquote_stable(text: str, limit: int = 5) -> str:
    """URL-unquote ``text`` repeatedly until it no longer changes (at most ``limit`` times)."""
    for _ in range(limit):
        decoded = unquote(text)
        if decoded == text:
            break
        text = decoded
    return text


class AddressBook:
    """
    The export system's registered addresses.

    Parameters
    ----------
    registered : iterable of str, optional
        Addresses registered from the start.
    registration_timeout : int
        Minutes quoted in the "registration initiated" message.
    """

    def __init__(self, registered: Iterable[str] = (), registration_timeout: int = 15):
        self._lock = threading.Lock()
        self._registered: set[str] = set()
        self._pending: set[str] = set()
        self.registration_timeout = registration_timeout
        for address in registered:
            self.register(address)

    def register(self, address: str) -> None:
        """Register ``address`` (completes a pending registration)."""
        key = address.strip().lower()
        with self._lock:
            self._registered.add(key)
            self._pending.discard(key)

    def unregister(self, address: str) -> None:
        """Forget ``address``."""
        key = address.strip().lower()
        with self._lock:
            self._registered.discard(key)
            self._pending.discard(key)

    def is_registered(self, address: str) -> bool:
        """Whether ``address`` is registered (case-insensitive)."""
        with self._lock:
            return address.strip().lower() in self._registered

    def registered(self) -> list[str]:
        """The registered addresses (lower case, sorted)."""
        with self._lock:
            return sorted(self._registered)

    def check(self, address: str | None, checkonly: bool = True) -> dict:
        """
        The ``checkAddress.sh`` reply for an (already decoded) address.

        Parameters
        ----------
        address : str or None
            The address; None means the argument was missing.
        checkonly : bool
            If false, an unknown address starts a registration (status 1, then 3).

        Returns
        -------
        dict
            ``{"status": int, "msg": str}``.
        """
        if address is None:
            return {"status": -2, "msg": MSG_MISSING}
        if ADDRESS_RE.match(address) is None:
            return {"status": -2, "msg": MSG_INVALID}
        key = address.strip().lower()
        with self._lock:
            if key in self._registered:
                return {"status": 2, "msg": MSG_REGISTERED}
            if key in self._pending:
                return {"status": 3, "msg": MSG_PENDING}
            if checkonly:
                return {"status": 4, "msg": MSG_UNREGISTERED}
            self._pending.add(key)
        return {"status": 1, "msg": MSG_INITIATED.format(timeout=self.registration_timeout)}

    def check_address(self, params: Mapping[str, str]) -> dict:
        """
        Serve ``checkAddress.sh`` (query parameters already URL-decoded once by the server).

        Parameters
        ----------
        params : Mapping
            ``address`` (possibly still percent-encoded, as drms sends it) and ``checkonly``.
        """
        address = params.get("address")
        if address is not None:
            address = unquote_stable(address)
        try:
            checkonly = int(params.get("checkonly", "0")) == 1
        except ValueError:
            checkonly = False
        return self.check(address, checkonly=checkonly)
