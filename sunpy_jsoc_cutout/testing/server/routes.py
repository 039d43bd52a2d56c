"""
From a decoded CGI call to the JSON reply: which handler of the data side or the export manager
serves each JSOC endpoint, and how a ``/SUM...`` URL path maps to a local file.
"""

from __future__ import annotations

from pathlib import Path

from sunpy_jsoc_cutout.testing.catalogue import jsoc_info
from .protocols import RoutedEmulator

__all__ = ["locate_file", "route_cgi"]

#: jsoc_fetch's reply to ``op=exp_repeat`` (disabled at JSOC, ``jsoc_fetch.c#L4460``).
REPEAT_DISABLED = {"status": 4, "error": "Re-Export requests temporarily disabled."}


def route_cgi(emulator: RoutedEmulator, endpoint: str, params: dict[str, str], client_ip: str) -> dict:
    """
    Serve one CGI call.

    Parameters
    ----------
    emulator : RoutedEmulator
        Its ``catalogue`` and ``exports`` (the export manager) answer.
    endpoint : str
        One of the names in `~sunpy_jsoc_cutout.testing.server.handler.CGI_ENDPOINTS`.
    params : dict
        Decoded request parameters, untouched.
    client_ip : str
        The client's IP address.

    Returns
    -------
    dict
        The JSON reply.
    """
    manager = emulator.exports
    if endpoint == "jsoc_info":
        return jsoc_info.jsoc_info(params, emulator.catalogue, max_list=emulator.rs_list_cap)
    if endpoint == "show_series":
        return jsoc_info.show_series(params, emulator.catalogue)
    if endpoint == "showextseries":
        return jsoc_info.showextseries(params, emulator.catalogue)
    if endpoint == "checkAddress":
        return manager.check_address(params)
    if endpoint == "manage_request":
        return manager.manage_request(params)
    return _jsoc_fetch(manager, params, client_ip)


def _jsoc_fetch(manager, params: dict[str, str], client_ip: str) -> dict:
    op = params.get("op", "")
    if op == "exp_request":
        return manager.exp_request(params, client_ip)
    if op == "exp_status":
        return manager.exp_status(params)
    if op == "exp_repeat":
        return dict(REPEAT_DISABLED)
    return {"status": 4, "error": f"jsoc_fetch: unsupported op '{op}'"}


def locate_file(emulator: RoutedEmulator, path: str) -> Path | None:
    """
    The local file for the URL path ``path`` (``/SUMnn/Dnnn/Snnnnn/name``), or None.

    The file store materialises record files lazily and holds the export directories.
    """
    if ".." in path.split("/"):
        return None
    local = emulator.store.locate(path)
    return Path(local) if local is not None else None
