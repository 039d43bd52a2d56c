"""
A pytest plugin that gives any test suite an offline JSOC: the ``jsoc_emulator`` fixture.

The plugin is installed with the package (a ``pytest11`` entry point named ``jsoc_emulator``),
so pytest loads it in every project of an environment that has ``sunpy-jsoc-cutout``. It is a
package of its own, outside ``sunpy_jsoc_cutout``, so that loading it does not import the client
(which imports ``sunpy.net`` and registers with Fido, seconds of work): it adds two
command-line/ini options and three fixtures and does nothing else; nothing is imported, started
or redirected until a test requests ``jsoc_emulator``. ``-p no:jsoc_emulator`` switches it off.

A test that requests ``jsoc_emulator`` gets a running `~sunpy_jsoc_cutout.testing.JSOCEmulator`
on ``127.0.0.1`` (the fast time model, 256-pixel images), and for the test's duration

* this package's client (``Fido`` with ``a.jsoc_cutout`` attrs) sends its requests there
  (`sunpy_jsoc_cutout.config.use_jsoc`), keeps its request ledger in the test's ``tmp_path`` and
  polls every 0.2 s;
* drms's ``jsoc`` server, and so ``drms.Client()`` and sunpy's stock ``JSOCClient``, point there
  (`~sunpy_jsoc_cutout.testing.JSOCEmulator.use_for_drms_jsoc`);
* proxy settings are removed (``HTTP_PROXY`` and the like, and sunpy's copy of them for parfive),
  so that every client reaches the loopback address directly.

Everything is restored when the test ends.

Options (command line ``--jsoc-emulator[=MODE]``, ini ``jsoc_emulator = MODE``; the command line wins):

``function`` (also ``true``, ``on``; the default)
    a new emulator for each test that requests the fixture;
``module`` or ``session``
    one emulator shared by the tests of a module or of the whole run (exports, registered
    addresses and the request log accumulate; the redirections are still made per test);
``off`` (also ``false``)
    tests that request ``jsoc_emulator`` are skipped, e.g. where no socket may be opened.

``jsoc_emulator_email`` (ini, addresses separated by spaces; default ``test@example.com``) are
the notification addresses registered with every emulator. The ``jsoc_emulator_email`` fixture
gives the first of them; a test can use another by overriding that fixture, e.g. with
``@pytest.mark.parametrize("jsoc_emulator_email", ["me@example.org"])``, and that address is
registered too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

import pytest

if TYPE_CHECKING:
    from sunpy_jsoc_cutout.testing import JSOCEmulator

__all__ = ["jsoc_emulator", "jsoc_emulator_email"]

#: Side of the emulator's full-disk images (JSOC: 4096); small, so that files are quick to make.
IMAGE_SIZE = 256

#: The notification address registered when the ini option ``jsoc_emulator_email`` is not set.
DEFAULT_EMAIL = "test@example.com"

Mode = Literal["function", "module", "session", "off"]

_MODES: dict[str, Mode] = {
    "function": "function",
    "true": "function",
    "on": "function",
    "yes": "function",
    "1": "function",
    "module": "module",
    "session": "session",
    "off": "off",
    "false": "off",
    "no": "off",
    "0": "off",
}

_PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")

_SKIP_MESSAGE = (
    "the JSOC emulator is switched off (--jsoc-emulator=off or the ini option jsoc_emulator = off); "
    "run with --jsoc-emulator to use it"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jsoc_emulator", "offline JSOC emulator (sunpy-jsoc-cutout)")
    group.addoption(
        "--jsoc-emulator",
        dest="jsoc_emulator",
        nargs="?",
        const="function",
        default=None,
        metavar="MODE",
        help=(
            "how the jsoc_emulator fixture runs: function (a new emulator per test; the default, "
            "also without MODE), module, session (one shared emulator) or off (skip the tests that use it)."
        ),
    )
    parser.addini(
        "jsoc_emulator",
        "how the jsoc_emulator fixture runs: function/true (default), module, session or off/false.",
        default="function",
    )
    parser.addini(
        "jsoc_emulator_email",
        f"notification addresses registered with the JSOC emulator (default {DEFAULT_EMAIL}).",
        type="args",
        default=[DEFAULT_EMAIL],
    )


def pytest_configure(config: pytest.Config) -> None:
    _mode(config)  # a misspelt mode is a usage error at once, not a failure in the first test using it


def _mode(config: pytest.Config) -> Mode:
    """The configured mode: the command line's, else the ini option's."""
    value = config.getoption("jsoc_emulator", default=None)
    source = "--jsoc-emulator"
    if value is None:
        value = config.getini("jsoc_emulator")
        source = "ini option jsoc_emulator"
    mode = _MODES.get(str(value).strip().lower())
    if mode is None:
        raise pytest.UsageError(f"{source}: expected function, module, session or off, not {value!r}")
    return mode


def _server_scope(fixture_name: str, config: pytest.Config) -> Literal["function", "module", "session"]:
    mode = _mode(config)
    return "function" if mode == "off" else mode


def _addresses(config: pytest.Config) -> list[str]:
    return [str(address) for address in config.getini("jsoc_emulator_email")] or [DEFAULT_EMAIL]


@pytest.fixture(scope=_server_scope)
def _jsoc_emulator_server(request: pytest.FixtureRequest) -> Iterator[JSOCEmulator]:
    """The running emulator, for one test or shared (``--jsoc-emulator=module|session``)."""
    # Imported here: loading the plugin must not import the emulator.
    from sunpy_jsoc_cutout.testing import JSOCEmulator  # noqa: PLC0415

    with JSOCEmulator(
        host="127.0.0.1", time_model="fast", image_size=IMAGE_SIZE, registered=_addresses(request.config)
    ) as emulator:
        yield emulator


@pytest.fixture
def jsoc_emulator_email(request: pytest.FixtureRequest) -> str:
    """
    The notification address to give ``a.jsoc.Notify`` (registered with the emulator).

    The first address of the ini option ``jsoc_emulator_email`` (default ``test@example.com``).
    Override this fixture, or parametrize it (``@pytest.mark.parametrize("jsoc_emulator_email",
    ["me@example.org"])``), to use another address; ``jsoc_emulator`` registers it.
    """
    return _addresses(request.config)[0]


@pytest.fixture
def jsoc_emulator(
    request: pytest.FixtureRequest,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    jsoc_emulator_email: str,
) -> Iterator[JSOCEmulator]:
    """
    A running `~sunpy_jsoc_cutout.testing.JSOCEmulator` that drms, sunpy's ``JSOCClient`` and
    ``Fido``'s JSOC cutout client use for the duration of the test.

    Skipped when the plugin's mode is ``off``. The emulator's knobs (fault injection, the request
    log, `~sunpy_jsoc_cutout.testing.JSOCEmulator.register_address`, ...) are available on it.
    """
    if _mode(request.config) == "off":
        pytest.skip(_SKIP_MESSAGE)
    emulator: JSOCEmulator = request.getfixturevalue("_jsoc_emulator_server")
    emulator.register_address(jsoc_emulator_email)

    # Imported here: loading the plugin must not import the client's configuration or sunpy.net.
    from sunpy.util import parfive_helpers  # noqa: PLC0415

    from sunpy_jsoc_cutout.config import conf, use_jsoc  # noqa: PLC0415

    # parfive copies HTTP(S)_PROXY into an explicit proxy and ignores NO_PROXY; sunpy reads them
    # into its parfive configuration once, at import.
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(parfive_helpers.config, "http_proxy", None)
    monkeypatch.setattr(parfive_helpers.config, "https_proxy", None)
    with (
        use_jsoc(emulator.url),
        conf.set_temp("ledger", str(tmp_path / "jsoc_cutout_ledger.sqlite")),
        conf.set_temp("min_poll", 0.2),
        emulator.use_for_drms_jsoc(),
    ):
        yield emulator
