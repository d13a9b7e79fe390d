"""The hand-rolled HTTP/1.1 layer and the Runtime API's answers to requests it must refuse."""

from __future__ import annotations

import json
import socket

import pytest

from harness.runtime import FunctionSpec, LocalRuntime
from harness.runtime.http import HttpConnection, HttpProtocolError


@pytest.fixture
def pair():
    listener = socket.create_server(("127.0.0.1", 0))
    client = socket.create_connection(listener.getsockname())
    server, _ = listener.accept()
    listener.close()
    server.settimeout(5)
    client.settimeout(5)
    yield HttpConnection(server), client
    server.close()
    client.close()


def test_content_length_body_and_pipelined_requests(pair) -> None:
    conn, client = pair
    client.sendall(
        b"POST /a HTTP/1.1\r\nContent-Length: 5\r\nX-Thing: 1\r\n\r\nhello"
        b"GET /b HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    first = conn.read_request()
    assert (first.method, first.target, first.body, first.headers["x-thing"]) == ("POST", "/a", b"hello", "1")
    second = conn.read_request()
    assert (second.method, second.target, second.body, second.wants_close) == ("GET", "/b", b"", True)
    client.shutdown(socket.SHUT_WR)
    assert conn.read_request() is None


def test_chunked_body(pair) -> None:
    conn, client = pair
    client.sendall(b"POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n")
    assert conn.read_request().body == b"abcde"


def test_expect_continue_is_answered_before_the_body(pair) -> None:
    conn, client = pair
    client.sendall(b"POST /e HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nok")
    assert conn.read_request().body == b"ok"
    assert client.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")


def test_response_is_one_write_with_length(pair) -> None:
    conn, client = pair
    conn.send(200, b'{"a":1}', (("Lambda-Runtime-Aws-Request-Id", "r1"),))
    data = client.recv(1000)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"Content-Length: 7" in head and b"Lambda-Runtime-Aws-Request-Id: r1" in head
    assert body == b'{"a":1}'


@pytest.mark.parametrize(
    "raw",
    [b"NONSENSE\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab"],
)
def test_malformed_requests_raise_protocol_error(pair, raw) -> None:
    conn, client = pair
    client.sendall(raw)
    client.shutdown(socket.SHUT_WR)
    with pytest.raises(HttpProtocolError):
        conn.read_request()


PROBE = '''
import http.client, json, os

def handler(event, context):
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    out = {}
    for name, method, path in [
        ("wrong_id", "POST", "/2018-06-01/runtime/invocation/not-the-current-id/response"),
        ("unknown_path", "GET", "/2018-06-01/runtime/nothing-here"),
    ]:
        c = http.client.HTTPConnection(api, timeout=5)
        c.request(method, path, body=b"{}" if method == "POST" else None)
        r = c.getresponse()
        out[name] = [r.status, json.loads(r.read())]
        c.close()
    return out
'''


def test_runtime_api_refuses_a_foreign_request_id_and_unknown_paths(runtime: LocalRuntime, write_dir) -> None:
    d = write_dir("probe", {"app.py": PROBE})
    runtime.register(FunctionSpec("probe", d, "app.handler"))
    result = runtime.invoke("probe", b"{}")
    assert result.function_error is None, result.payload
    out = json.loads(result.payload)
    assert out["wrong_id"][0] == 400 and out["wrong_id"][1]["errorType"] == "InvalidRequestID"
    assert out["unknown_path"][0] == 404
