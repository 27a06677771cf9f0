"""The lab's HTTP boundary on a real `learnscope lab` server: another Host, another site's Origin (page or
websocket), an oversized or malformed upload are refused with a 4xx and a reason; the lab's own pages work."""

import http.client
import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit


def request(server, method="GET", path="/", headers=None, body=None):
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


def test_another_host_or_origin_is_refused_and_the_labs_own_pages_are_not(lab_server):
    assert request(lab_server)[0] == 200
    assert request(lab_server, headers={"Host": f"localhost:{urlsplit(lab_server.url).port}"})[0] == 200
    status, reason = request(lab_server, headers={"Host": "evil.example"})
    assert status == 400 and "not to the host 'evil.example'" in reason
    status, reason = request(lab_server, headers={"Origin": "https://evil.example"})
    assert status == 403 and "only the lab's own pages" in reason
    same_origin = {"Origin": lab_server.url}
    assert request(lab_server, headers=same_origin)[0] == 200


def test_a_websocket_from_another_site_is_refused(lab_server):
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    path = "/_nicegui_ws/socket.io/?EIO=4&transport=websocket"
    assert request(lab_server, path=path, headers={**upgrade, "Origin": "https://evil.example"})[0] == 403
    assert request(lab_server, path=path, headers={**upgrade, "Origin": lab_server.url})[0] == 101


def test_uploads_past_the_limit_or_not_multipart_are_refused(lab_server):
    path = "/_nicegui/client/nobody/upload/1"
    body = b"x" * (10 * 2**20)
    status, reason = request(lab_server, "POST", path, {"Content-Type": "multipart/form-data; boundary=b"}, body)
    assert status == 413 and "Uploads are limited to 2,097,152 bytes" in reason
    status, reason = request(lab_server, "POST", path, {"Content-Type": "application/json"}, b"{}")
    assert status == 400 and "multipart/form-data" in reason


def test_serving_on_every_address_warns(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "LEARNSCOPE_STORE": str(tmp_path / "runs.sqlite")}
    env.pop("PYTEST_CURRENT_TEST", None)
    process = subprocess.Popen([sys.executable, "-m", "learnscope", "lab", "--host", "0.0.0.0", "--port", str(port),
                                "--no-browser"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env)
    try:
        first_line = process.stderr.readline()
    finally:
        process.terminate()
        process.communicate(timeout=10)                     # reads and closes the pipe
    assert first_line.startswith("warning: serving on 0.0.0.0: anyone who can reach this computer")
