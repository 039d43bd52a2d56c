"""Where the client sends its requests: use_jsoc > SUNPY_JSOC_CUTOUT_URL > conf.url."""

from sunpy_jsoc_cutout.config import ENV_URL, base_url, conf, use_jsoc


def test_default_is_the_real_jsoc(monkeypatch):
    monkeypatch.delenv(ENV_URL, raising=False)
    assert base_url() == "http://jsoc.stanford.edu/"


def test_config_item_environment_and_context_in_that_order(monkeypatch):
    monkeypatch.delenv(ENV_URL, raising=False)
    with conf.set_temp("url", "http://127.0.0.1:1/"):
        assert base_url() == "http://127.0.0.1:1/"
        monkeypatch.setenv(ENV_URL, "http://127.0.0.1:2")
        assert base_url() == "http://127.0.0.1:2/"
        with use_jsoc("http://127.0.0.1:3/"):
            assert base_url() == "http://127.0.0.1:3/"
            with use_jsoc("http://127.0.0.1:4/"):
                assert base_url() == "http://127.0.0.1:4/"
            assert base_url() == "http://127.0.0.1:3/"
        assert base_url() == "http://127.0.0.1:2/"


def test_emulator_url_plugs_straight_in(emulator):
    with use_jsoc(emulator.url) as url:
        assert url == emulator.url
