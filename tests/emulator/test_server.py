"""
The emulator's HTTP layer: routing, decoding, JSON replies, file serving, the request log, the
connection counter, the control API and the drms/sunpy configuration helpers.
"""

import http.client
import json
import socket
import time
import urllib.parse
import urllib.request
from pathlib import Path

import drms
import drms.config
import parfive
import pytest

from sunpy_jsoc_cutout.testing import EmulatorControl, EmulatorControlError, JSOCEmulator
from sunpy_jsoc_cutout.testing.server.emulator import NotLoopback
from sunpy_jsoc_cutout.testing.server.monitor import ConnectionCounter

SPEC = "hmi.M_45s[2014.01.01_00:00:00_TAI/6m]"


def _get(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read()


def _json(url, data=None):
    status, headers, body = _get(url, data, {"Content-Type": "application/x-www-form-urlencoded"} if data else None)
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    return status, json.loads(body)


def _file_paths(emu, n):
    records = emu.catalogue.query(SPEC)
    return [records.sums_path(i, "magnetogram") for i in range(n)]


# ----------------------------------------------------------------------------- CGI routing
@pytest.mark.parametrize("prefix", ["cgi-bin/ajax/", "cgi-bin/"])
def test_cgi_endpoints_answer_json_under_both_prefixes(emulator, email, prefix):
    status, reply = _json(emulator.url + prefix + "jsoc_info?op=rs_summary&ds=" + urllib.parse.quote(SPEC))
    assert (status, reply["status"], reply["count"]) == (200, 0, 8)
    address = urllib.parse.quote_plus(urllib.parse.quote_plus(email))  # drms double-encodes
    status, reply = _json(emulator.url + prefix + f"checkAddress.sh?address={address}&checkonly=1")
    assert reply["status"] == 2
    status, reply = _json(emulator.url + prefix + "show_series?filter=hmi")
    assert "hmi.M_45s" in [entry["name"] for entry in reply["names"]]
    status, reply = _json(emulator.url + prefix + "showextseries?dbhost=hmidb2&filter=aia")
    assert "aia.lev1_euv_12s" in reply["seriesList"]


def test_jsoc_errors_are_http_200(emulator):
    status, reply = _json(emulator.url + "cgi-bin/ajax/jsoc_info?op=series_struct&ds=no.such_series")
    assert status == 200
    assert reply["status"] == 1
    status, reply = _json(emulator.url + "cgi-bin/ajax/jsoc_fetch?op=exp_status&requestid=nonsense")
    assert (status, reply["status"]) == (200, 4)
    assert reply["error"] == "Bad RequestID 'nonsense' provided."


def test_post_form_equals_get(emulator):
    query = "op=rs_summary&ds=" + urllib.parse.quote(SPEC)
    _, by_get = _json(emulator.url + "cgi-bin/ajax/jsoc_info?" + query)
    _, by_post = _json(emulator.url + "cgi-bin/ajax/jsoc_info", data=query.encode())
    assert by_post["count"] == by_get["count"] == 8
    assert [e["method"] for e in emulator.request_log] == ["GET", "POST"]
    assert emulator.request_log[1]["params"] == {"op": "rs_summary", "ds": SPEC}


def test_drms_process_key_reaches_the_manager_untouched(emulator, email):
    query = urllib.parse.urlencode(
        {
            "op": "exp_request",
            "ds": SPEC + "{magnetogram}",
            "notify": email,
            "method": "url",
            "protocol": "fits",
            "process=n": "0|im_patch,t_ref=2014-01-01T00:00:00,x=0,y=0,width=100,height=100",
            "blank": "",
        }
    )
    assert "process%3Dn=" in query
    _, reply = _json(emulator.url + "cgi-bin/ajax/jsoc_fetch?" + query)
    assert reply["status"] == 2
    params = emulator.request_log[0]["params"]
    assert params["process=n"].startswith("0|im_patch,t_ref=")
    assert params["blank"] == ""  # blank values are kept


def test_unknown_paths_and_missing_files_are_404(emulator):
    for path in ("cgi-bin/ajax/no_such_cgi", "elsewhere", "SUM1/D999/S00000/missing.fits", "_emulator/nothing"):
        with pytest.raises(urllib.error.HTTPError) as err:
            _get(emulator.url + path)
        assert err.value.code == 404


# ----------------------------------------------------------------------------- files
def test_head_and_get_of_a_record_file(emulator):
    (path,) = _file_paths(emulator, 1)
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=30)
    connection.request("HEAD", path)
    head = connection.getresponse()
    head.read()
    connection.request("GET", path)
    get = connection.getresponse()
    body = get.read()
    connection.close()
    assert head.status == get.status == 200
    assert int(head.getheader("Content-Length")) == int(get.getheader("Content-Length")) == len(body) > 2880
    assert get.getheader("Accept-Ranges") == "none"
    assert get.getheader("Content-Type") == "image/fits"
    assert body.startswith(b"SIMPLE  =")
    assert [e["method"] for e in emulator.request_log] == ["HEAD", "GET"]
    # One keep-alive connection carried both requests.
    snapshot = emulator.connections.snapshot()
    assert snapshot["total_connections"] == 1
    assert snapshot["total_downloads"] == 1


def _download_all(emu, paths, directory, max_conn):
    downloader = parfive.Downloader(max_conn=max_conn, max_splits=1, progress=False, overwrite=True)
    for path in paths:
        downloader.enqueue_file(emu.url + path.lstrip("/"), path=directory)
    return downloader.download()


def test_connection_counter_sees_one_connection_with_max_conn_1(emulator, tmp_path):
    paths = _file_paths(emulator, 4)
    results = _download_all(emulator, paths, tmp_path, max_conn=1)
    assert len(results) == 4
    snapshot = emulator.connections.snapshot()
    assert snapshot["total_downloads"] == 4
    assert snapshot["max_downloads"] == 1
    assert snapshot["max_connections"] == 1


def test_connection_counter_counts_parallel_connections(emulator, tmp_path):
    paths = _file_paths(emulator, 4)
    for path in paths:  # make the files first, so only the throttled transfer takes time
        emulator.locate_file(path)
    size = min(emulator.locate_file(path).stat().st_size for path in paths)
    emulator.download_bandwidth = size / 0.5  # every transfer takes at least 0.5 s
    results = _download_all(emulator, paths, tmp_path, max_conn=4)
    assert len(results) == 4
    snapshot = emulator.connections.snapshot()
    assert snapshot["max_downloads"] > 1
    assert snapshot["max_connections"] > 1
    before = emulator.connections.reset()
    assert before["max_connections"] == snapshot["max_connections"]
    assert emulator.connections.snapshot()["total_downloads"] == 0


def test_a_throttled_file_arrives_at_the_bandwidth_not_at_once(emulator):
    """The last byte of a file arrives size / bandwidth after the request: the server does not send a
    64 kB read chunk at once and wait after it (a small file used to arrive in no time)."""
    (path,) = _file_paths(emulator, 1)
    size = emulator.locate_file(path).stat().st_size
    emulator.download_bandwidth = size / 0.6
    start = time.monotonic()
    with urllib.request.urlopen(emulator.url + path.lstrip("/"), timeout=30) as reply:
        body = reply.read()
    took = time.monotonic() - start
    assert len(body) == size
    assert took >= 0.5


# ----------------------------------------------------------------------------- control API
def test_control_api_round_trip(emulator, email):
    control = EmulatorControl(emulator.url)
    drms.Client(server=emulator.server_config, email=email)  # one checkAddress call
    log = control.log()
    assert [entry["endpoint"] for entry in log] == ["checkAddress"]
    assert control.log(since=1) == []
    assert log[0]["params"]["checkonly"] == "1"
    before = control.now()
    assert control.advance_clock(3600) >= before + 3600
    control.register("other@example.com")
    _, reply = _json(emulator.url + "cgi-bin/ajax/checkAddress.sh?address=other%40example.com&checkonly=1")
    assert reply["status"] == 2
    control.set_fault("http500", "jsoc_info", times=2)
    assert emulator.faults.rules[0].times == 2
    control.clear_faults()
    assert emulator.faults.rules == []
    state = control.state()
    assert state["url"] == emulator.url
    assert state["time_model"]["name"] == "fast"
    assert state["clock"] >= before + 3600
    assert control.connections()["max_connections"] == 0
    control.set_bandwidth(1e6)
    assert emulator.download_bandwidth == 1e6


def test_control_api_shows_exports_and_expires_them(emulator, email):
    control = EmulatorControl(emulator.url)
    client = drms.Client(server=emulator.server_config, email=email)
    request = client.export(SPEC + "{magnetogram}", method="url", protocol="fits")
    (row,) = control.state()["exports"]["pending"]
    assert request.id in json.dumps(row)
    assert request.wait(sleep=0)
    assert control.state()["exports"]["pending"] == []
    assert request.id in json.dumps(control.state()["exports"]["requests"])
    assert control.expire(request.id)["result"] == "expired"
    reply = client._json.exp_status(request.id)
    assert reply["status"] == 5
    assert control.expire("JSOC_20000101_999")["result"] == "unknown"


def test_control_api_sets_export_level_faults(emulator, email):
    control = EmulatorControl(emulator.url)
    client = drms.Client(server=emulator.server_config, email=email)
    knobs = control.set_export_faults(fail_after=0, fail_message="disk full", fail_requests=1)["export"]
    assert (knobs["fail_after"], knobs["fail_message"]) == (0, "disk full")
    failing = client.export(SPEC + "{magnetogram}", method="url", protocol="fits")
    with pytest.raises(drms.DrmsExportError, match="disk full"):
        failing.wait(sleep=0)
    # Positive control: the knob was for one request only.
    assert client.export(SPEC + "{magnetogram}", method="url-tar", protocol="fits").wait(sleep=0)


def test_control_api_rejects_bad_calls(emulator):
    control = EmulatorControl(emulator.url)
    with pytest.raises(EmulatorControlError, match="unknown fault kind"):
        control.set_fault("explode")
    with pytest.raises(EmulatorControlError, match="advance"):
        control._call("POST", "clock", {"forward": 1})
    with pytest.raises(EmulatorControlError, match="not allowed"):
        control._call("POST", "state", {})
    assert emulator.faults.rules == []


def _raw_control(emulator, method, name, body=b"", headers=None):
    """One control call over a raw connection, with exactly the headers given (plus Host)."""
    connection = http.client.HTTPConnection(emulator.host, emulator.port, timeout=10)
    try:
        connection.putrequest(method, "/_emulator/" + name, skip_host=True, skip_accept_encoding=True)
        headers = {"Host": f"{emulator.host}:{emulator.port}", **(headers or {})}
        for key, value in headers.items():
            connection.putheader(key, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


ADVANCE = json.dumps({"advance": 86400}).encode()
PAGE_CALLS = [  # what a web page in the user's browser can send to a fixed port
    ("POST", {"Content-Type": "text/plain"}, "application/json"),
    ("POST", {"Content-Type": "application/x-www-form-urlencoded"}, "application/json"),
    ("POST", {"Content-Type": "multipart/form-data; boundary=x"}, "application/json"),
    ("POST", {}, "application/json"),
    ("POST", {"Content-Type": "application/json", "Origin": "http://evil.example"}, "web page"),
    ("POST", {"Content-Type": "application/json", "Origin": "null"}, "web page"),
    ("POST", {"Content-Type": "application/json", "Host": "evil.example:80"}, "addressed to"),
]


@pytest.mark.parametrize(("method", "headers", "message"), PAGE_CALLS)
def test_control_api_refuses_what_a_web_page_can_send(emulator, method, headers, message):
    before = emulator.clock.now()
    status, _, body = _raw_control(emulator, method, "clock", ADVANCE, headers)
    assert status == 403
    assert message in json.loads(body)["error"]
    assert emulator.clock.now() < before + 3600  # the clock did not move


def test_control_api_refuses_rebinding_reads_and_grants_no_preflight(emulator):
    status, _, body = _raw_control(emulator, "GET", "state", headers={"Host": "rebound.example:8080"})
    assert status == 403
    assert "addressed to" in json.loads(body)["error"]
    status, headers, _ = _raw_control(
        emulator, "OPTIONS", "clock", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert status >= 400
    assert "Access-Control-Allow-Origin" not in headers


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {"Content-Type": "application/json; charset=utf-8", "Host": "localhost:{port}"},
        {"Content-Type": "application/json", "Origin": "http://127.0.0.1:{port}"},
    ],
)
def test_control_api_serves_programs(emulator, headers):
    headers = {key: value.format(port=emulator.port) for key, value in headers.items()}
    before = emulator.clock.now()
    status, _, body = _raw_control(emulator, "POST", "clock", ADVANCE, headers)
    assert status == 200, body
    assert json.loads(body)["now"] >= before + 86400


# ----------------------------------------------------------------------------- configuration
def test_server_config_is_complete_and_local(emulator):
    config = emulator.server_config.to_dict()
    for op in ("series", "info", "query", "email", "export"):
        assert emulator.server_config.check_supported(op)
    urls = {key: value for key, value in config.items() if key.startswith(("url_", "cgi_baseurl", "http_"))}
    assert len(urls) == 7
    assert all(value.startswith(emulator.url) for value in urls.values()), urls


def test_use_for_drms_jsoc_redirects_and_restores(emulator):
    original = drms.config._server_configs["jsoc"]
    with emulator.use_for_drms_jsoc():
        assert drms.Client()._server.cgi_baseurl.startswith(emulator.url)
        assert "hmi.M_45s" in drms.Client().series(r"hmi\.M_45s")
    assert drms.config._server_configs["jsoc"] is original
    assert emulator.request_log[0]["endpoint"] == "showextseries"


def test_only_loopback_addresses_are_allowed():
    with pytest.raises(NotLoopback):
        JSOCEmulator(host="0.0.0.0")


def test_temporary_root_is_removed_at_stop():
    emu = JSOCEmulator(image_size=64)
    root = emu.root
    with emu:
        assert root.is_dir()
        assert emu.running
    assert not emu.running
    assert not root.exists()


def test_cli_says_where_the_control_api_is_and_how_to_call_it(tmp_path):
    import os  # noqa: PLC0415
    import signal  # noqa: PLC0415
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    process = subprocess.Popen(
        [sys.executable, "-m", "sunpy_jsoc_cutout.testing", "--image-size", "64", "--root", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")])
            ),
        },
    )
    try:
        url = process.stdout.readline().strip()
        note = process.stderr.readline()
        assert EmulatorControl(url).state()["image_size"] == 64
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert f"control API at {url}_emulator/" in note
    assert "application/json" in note
    assert "web pages are refused" in note


def test_a_connection_its_client_closed_is_not_counted_as_open():
    """A client that closes one connection and then opens the next holds one, even when the thread
    serving the first has not read its end of stream yet; two open connections are two."""
    counter = ConnectionCounter()
    first_server, first_client = socket.socketpair()
    second_server, second_client = socket.socketpair()
    third_server, third_client = socket.socketpair()
    try:
        counter.connection_opened(first_server)
        first_client.close()  # the client is done with it; its server thread has not noticed
        counter.connection_opened(second_server)
        assert counter.snapshot()["current_connections"] == 1
        assert counter.snapshot()["max_connections"] == 1
        counter.connection_closed(first_server)  # the serving thread gets there: not counted twice
        assert counter.snapshot()["current_connections"] == 1
        counter.connection_opened(third_server)  # the second is still open (keep-alive)
        assert counter.snapshot()["max_connections"] == 2
    finally:
        for sock in (first_server, second_server, second_client, third_server, third_client):
            sock.close()
