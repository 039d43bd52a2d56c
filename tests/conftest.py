"""
Shared fixtures: a running JSOC emulator and a proxy-free, quiet parfive.
"""

import os

import pytest

from sunpy.util import parfive_helpers

# parfive reads this when a Downloader is made: no progress bars in test output.
os.environ.setdefault("PARFIVE_HIDE_PROGRESS", "1")

#: The notification address registered with the ``emulator`` fixture.
EMAIL = "user@example.com"

#: Full-disk image side used by the fixtures (JSOC: 4096): small, so files are quick to make.
IMAGE_SIZE = 256

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """
    Keep every client on the loopback interface.

    parfive copies ``HTTP_PROXY``/``HTTPS_PROXY`` into an explicit proxy and ignores ``NO_PROXY``;
    sunpy builds its parfive ``SessionConfig`` once, at import, so its attributes are patched too
    (removing the environment variables alone would be too late for it).
    """
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(parfive_helpers.config, "http_proxy", None)
    monkeypatch.setattr(parfive_helpers.config, "https_proxy", None)


@pytest.fixture
def emulator(tmp_path):
    """A started JSOC emulator (FAST time model, 256-pixel images, ``EMAIL`` registered)."""
    # Imported here so that a broken server cannot stop the collection of unrelated tests.
    from sunpy_jsoc_cutout.testing import JSOCEmulator  # noqa: PLC0415

    with JSOCEmulator(time_model="fast", image_size=IMAGE_SIZE, registered=(EMAIL,), root=tmp_path / "sums") as emu:
        yield emu


@pytest.fixture
def email():
    """The address registered with the ``emulator`` fixture."""
    return EMAIL


@pytest.fixture
def jsoc(emulator, tmp_path):
    """
    The ``emulator``, with the cutout client pointing at it (``config.use_jsoc``), a ledger of the
    test's own and a quick staging poll (the emulator's FAST model; the default is 2 s).
    """
    from sunpy_jsoc_cutout.config import conf, use_jsoc  # noqa: PLC0415

    with (
        use_jsoc(emulator.url),
        conf.set_temp("ledger", str(tmp_path / "ledger.sqlite")),
        conf.set_temp("min_poll", 0.2),
        conf.set_temp("retry_wait", 0.05),
    ):
        yield emulator
