"""
The pytest plugin (``sunpy_jsoc_cutout_pytest``, entry point ``jsoc_emulator``): another
project's tests, run with pytester, that use only the ``jsoc_emulator`` fixture.
"""

import textwrap

import pytest

pytest_plugins = ["pytester"]

# A downstream test module: it imports nothing of the emulator and uses only the fixture.
DOWNSTREAM = textwrap.dedent(
    """
    import drms

    import astropy.units as u

    import sunpy.net.attrs as a
    from sunpy.net import Fido

    import sunpy_jsoc_cutout  # noqa: F401
    from sunpy_jsoc_cutout import attrs as jc

    SPAN = a.Time("2014-02-05 08:00", "2014-02-05 08:00:12")


    def endpoints(emulator):
        return [entry["endpoint"] for entry in emulator.request_log]


    def test_cutout_through_this_client(jsoc_emulator, jsoc_emulator_email, tmp_path):
        result = Fido.search(
            SPAN,
            a.jsoc.Series("aia.lev1_euv_12s"),
            a.Wavelength(171 * u.AA),
            jc.Box([-517.2, -246] * u.arcsec, 100 * u.arcsec),
            a.jsoc.Notify(jsoc_emulator_email),
        )
        found = len(result["jsoccutout"])
        assert found >= 1
        files = Fido.fetch(result, path=tmp_path / "{file}")
        assert not files.errors
        assert len(files) == found
        assert (tmp_path / "jsoc_cutout_ledger.sqlite").exists()  # the ledger of this test
        assert "jsoc_fetch" in endpoints(jsoc_emulator)


    def test_drms_client(jsoc_emulator):
        client = drms.Client()
        assert client.series(r"hmi\\.M_45s") == ["hmi.M_45s"]
        records = client.query("hmi.M_45s[2014.01.01_00:00:00_TAI/2m]", key="T_REC")
        assert len(records) == 3
        assert jsoc_emulator.request_log


    def test_stock_jsoc_client_through_fido(jsoc_emulator, jsoc_emulator_email):
        result = Fido.search(
            a.Time("2014-01-01T00:00", "2014-01-01T00:02"),
            a.jsoc.Series("hmi.M_45s"),
            a.jsoc.Notify(jsoc_emulator_email),
        )
        assert "jsoccutout" not in result.keys()
        assert len(result["jsoc"]) == 3
        assert "jsoc_info" in endpoints(jsoc_emulator)
    """
)

# Without the fixture nothing is redirected (the plugin is loaded in every run of every project).
UNTOUCHED = textwrap.dedent(
    """
    import drms.config

    from sunpy_jsoc_cutout.config import base_url


    def test_nothing_redirected():
        assert "127.0.0.1" not in drms.config._server_configs["jsoc"].cgi_baseurl
        assert "127.0.0.1" not in base_url()
    """
)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("PARFIVE_HIDE_PROGRESS", "1")


def test_downstream_tests_use_the_emulator_without_any_option(pytester):
    pytester.makepyfile(test_downstream=DOWNSTREAM, test_untouched=UNTOUCHED)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_one_emulator_for_the_session(pytester):
    pytester.makepyfile(
        test_shared="""
        import drms

        seen = set()


        def test_first(jsoc_emulator):
            seen.add(jsoc_emulator.url)
            assert drms.Client().series(r"hmi\\.M_45s") == ["hmi.M_45s"]


        def test_second(jsoc_emulator):
            seen.add(jsoc_emulator.url)
            assert len(seen) == 1
            assert len(jsoc_emulator.request_log) == 1  # the first test's requests are still there
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--jsoc-emulator=session")
    result.assert_outcomes(passed=2)


@pytest.mark.parametrize(
    "how",
    [("--jsoc-emulator=off",), ("-o", "jsoc_emulator=false")],
    ids=["command-line", "ini"],
)
def test_off_skips_with_the_message(pytester, how):
    pytester.makepyfile(test_off="def test_needs_jsoc(jsoc_emulator):\n    raise AssertionError\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs", *how)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*the JSOC emulator is switched off*run with --jsoc-emulator*"])


def test_command_line_wins_over_ini(pytester):
    pytester.makeini("[pytest]\njsoc_emulator = off\n")
    pytester.makepyfile(test_on="def test_on(jsoc_emulator):\n    assert jsoc_emulator.running\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--jsoc-emulator")
    result.assert_outcomes(passed=1)


def test_a_misspelt_mode_is_a_usage_error(pytester):
    pytester.makepyfile(test_any="def test_any():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--jsoc-emulator=weekly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--jsoc-emulator: expected function, module, session or off, not 'weekly'*"])


def test_registered_addresses_from_ini_and_parametrisation(pytester):
    pytester.makeini("[pytest]\njsoc_emulator_email = first@example.org second@example.org\n")
    pytester.makepyfile(
        test_addresses="""
        import drms
        import pytest


        def test_ini_addresses(jsoc_emulator, jsoc_emulator_email):
            assert jsoc_emulator_email == "first@example.org"
            client = drms.Client()
            assert client.check_email("first@example.org")
            assert client.check_email("second@example.org")
            assert not client.check_email("test@example.com")


        @pytest.mark.parametrize("jsoc_emulator_email", ["mine@example.net"])
        def test_parametrised_address(jsoc_emulator, jsoc_emulator_email):
            assert drms.Client().check_email("mine@example.net")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
