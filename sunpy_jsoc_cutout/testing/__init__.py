"""
An offline emulator of JSOC's HTTP export API, for tests, documentation and demonstrations.

`JSOCEmulator` serves JSOC's CGI endpoints (``jsoc_info``, ``jsoc_fetch``, ``checkAddress.sh``,
``show_series``, ``showextseries``, ``manage-request.sh``) and the exported SUMS files on
``127.0.0.1``; `EmulatorControl` drives a running emulator through its control API; run
``python -m sunpy_jsoc_cutout.testing --port N`` to serve one from the command line.

The emulator is an independent implementation of JSOC: it never imports the client side of
``sunpy_jsoc_cutout``. Its modules are imported lazily, so importing one of them (for example the
renderer) does not load the HTTP server.
"""

from __future__ import annotations

import importlib

__all__ = ["EmulatorControl", "EmulatorControlError", "JSOCEmulator", "TransportFaults"]

_LAZY = {
    "JSOCEmulator": "server.emulator",
    "EmulatorControl": "server.control_client",
    "EmulatorControlError": "server.control_client",
    "TransportFaults": "server.faults",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
