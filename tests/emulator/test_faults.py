"""
Transport fault knobs, judged by what real clients (drms over urllib, parfive over aiohttp) see,
each with the knob off as a positive control.
"""

import urllib.error

import drms
import parfive
import pytest

from sunpy_jsoc_cutout.testing import EmulatorControl
from sunpy_jsoc_cutout.testing.server.faults import FaultRule, InvalidFault, TransportFaults, corrupt_bytes

SPEC = "hmi.M_45s[2014.01.01_00:00:00_TAI/135s]"


def _file_urls(emu, n=1):
    records = emu.catalogue.query(SPEC)
    return [emu.url + records.sums_path(i, "magnetogram").lstrip("/") for i in range(n)]


def _download(urls, directory, max_conn=1):
    downloader = parfive.Downloader(max_conn=max_conn, max_splits=1, progress=False, overwrite=True)
    for url in urls:
        downloader.enqueue_file(url, path=directory)
    return downloader.download()


def _jsoc_fetch_status(client):
    """A cheap jsoc_fetch call through drms (an exp_status of a well-formed unknown id)."""
    return client._json.exp_status("JSOC_20200101_001")


# ----------------------------------------------------------------------------- CGI endpoints
@pytest.mark.parametrize("endpoint", ["jsoc_info", "all"])
def test_http500_reaches_drms_as_http_error(emulator, endpoint):
    client = drms.Client(server=emulator.server_config)
    emulator.faults.set("http500", endpoint, times=1)
    with pytest.raises(urllib.error.HTTPError) as err:
        client.info("hmi.M_45s")
    assert err.value.code == 500
    # Positive control: the knob was used up, the next identical call succeeds.
    assert client.info("hmi.M_45s").primekeys == ["T_REC", "CAMERA"]
    assert [e["status"] for e in emulator.request_log if e["endpoint"] == "jsoc_info"] == [500, 200]


def test_reset_reaches_drms_as_connection_error(emulator):
    client = drms.Client(server=emulator.server_config)
    emulator.faults.set("reset", "jsoc_fetch")
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        _jsoc_fetch_status(client)
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        _jsoc_fetch_status(client)
    emulator.faults.clear("reset", "jsoc_fetch")
    assert _jsoc_fetch_status(client)["status"] == 4
    faults = [e["fault"] for e in emulator.request_log if e["endpoint"] == "jsoc_fetch"]
    assert faults == ["reset", "reset", None]


def test_fault_on_one_endpoint_leaves_the_others_alone(emulator, email):
    emulator.faults.set("http500", "checkAddress")
    client = drms.Client(server=emulator.server_config)
    assert client.info("hmi.M_45s").segments.index.tolist() == ["magnetogram"]
    with pytest.raises(urllib.error.HTTPError):
        client.check_email(email)
    emulator.faults.clear()
    assert client.check_email(email)


def test_slow_reply_is_delayed_but_correct(emulator):
    client = drms.Client(server=emulator.server_config)
    emulator.faults.set("slow", "jsoc_info", delay=0.2, times=1)
    assert client.info("hmi.M_45s").primekeys == ["T_REC", "CAMERA"]
    assert client.info("hmi.Ic_45s").primekeys == ["T_REC", "CAMERA"]  # drms caches info(): another series
    assert [e["fault"] for e in emulator.request_log if e["endpoint"] == "jsoc_info"] == ["slow", None]


def test_control_api_is_never_faulted(emulator):
    emulator.faults.set("reset", "all")
    assert EmulatorControl(emulator.url).faults()["transport"][0]["kind"] == "reset"


# ----------------------------------------------------------------------------- files
def test_file_http500_lands_in_parfive_errors(emulator, tmp_path):
    (url,) = _file_urls(emulator)
    emulator.faults.set("http500", "files", times=1)
    results = _download([url], tmp_path / "bad")
    assert len(results) == 0
    assert [err.url for err in results.errors] == [url]
    assert "500" in str(results.errors[0].exception)
    # Positive control: the knob is used up.
    results = _download([url], tmp_path / "ok")
    assert len(results) == 1
    assert not results.errors


def test_file_reset_lands_in_parfive_errors(emulator, tmp_path):
    (url,) = _file_urls(emulator)
    # aiohttp silently retries a request once when a reused keep-alive connection drops, so a
    # single reset is absorbed by the client: keep the knob on for the whole download.
    emulator.faults.set("reset", "files")
    results = _download([url], tmp_path / "bad")
    assert len(results) == 0
    assert isinstance(results.errors[0].exception, ConnectionError | OSError)
    resets = [e for e in emulator.request_log if e["fault"] == "reset"]
    assert len(resets) >= 1
    emulator.faults.clear()
    results = _download([url], tmp_path / "ok")
    assert len(results) == 1
    assert not results.errors


def test_truncated_file_is_detected_against_content_length(emulator, tmp_path):
    (url,) = _file_urls(emulator)
    emulator.faults.set("truncate", "files", keep=0.5)
    results = _download([url], tmp_path / "bad")
    assert len(results) == 0
    (error,) = results.errors
    assert "content length" in str(error.exception).lower() or "payload" in str(error.exception).lower()
    emulator.faults.clear()
    good = _download([url], tmp_path / "good")
    assert not good.errors
    assert (tmp_path / "good").joinpath(url.rsplit("/", 1)[1]).stat().st_size > 0


def test_corrupt_file_has_the_same_length_but_other_bytes(emulator, tmp_path):
    (url,) = _file_urls(emulator)
    name = url.rsplit("/", 1)[1]
    good = _download([url], tmp_path / "good")
    assert not good.errors
    emulator.faults.set("corrupt", "files", times=1)
    bad = _download([url], tmp_path / "bad")
    assert not bad.errors  # nothing in the transport betrays it
    good_bytes = (tmp_path / "good" / name).read_bytes()
    bad_bytes = (tmp_path / "bad" / name).read_bytes()
    assert len(bad_bytes) == len(good_bytes)
    assert bad_bytes != good_bytes
    assert bad_bytes[: len(bad_bytes) // 2] == good_bytes[: len(good_bytes) // 2]  # the header survives


def test_fraction_is_seeded_and_limited_by_times():
    def pattern(seed):
        faults = TransportFaults(seed=seed)
        faults.set("http500", "files", fraction=0.5)
        return [bool(faults.draw("files")) for _ in range(40)]

    assert pattern(1) == pattern(1)
    assert 5 < sum(pattern(1)) < 35
    assert pattern(1) != pattern(2)
    faults = TransportFaults()
    faults.set("reset", "all", times=3)
    assert [bool(faults.draw("jsoc_fetch")) for _ in range(5)] == [True, True, True, False, False]


def test_file_only_kinds_never_hit_cgi_endpoints():
    faults = TransportFaults()
    faults.set("truncate", "all")
    assert faults.draw("jsoc_info") == {}
    assert list(faults.draw("files")) == ["truncate"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "explode"}, "unknown fault kind"),
        ({"kind": "reset", "endpoint": "nowhere"}, "unknown endpoint"),
        ({"kind": "truncate", "endpoint": "jsoc_info"}, "file downloads only"),
        ({"kind": "reset", "fraction": 0}, "fraction"),
        ({"kind": "reset", "times": 0}, "times"),
        ({"kind": "truncate", "endpoint": "files", "keep": 1.0}, "keep"),
    ],
)
def test_invalid_rules_are_refused(kwargs, message):
    with pytest.raises(InvalidFault, match=message):
        FaultRule(**kwargs)


def test_corrupt_bytes_keeps_length_and_first_half():
    data = bytes(range(256)) * 4
    out = corrupt_bytes(data)
    assert len(out) == len(data)
    assert out[:512] == data[:512]
    assert sum(a != b for a, b in zip(out, data, strict=True)) == 16
