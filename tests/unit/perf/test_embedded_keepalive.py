"""The embedded backend's server keeps HTTP/1.1 connections alive (one TCP connect per client, not per
call), still answers chunked uploads and HEAD correctly, and cuts kept-alive connections on stop."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest

from harness.backends import get_backend


@pytest.fixture(scope="module")
def backend():  # type: ignore[no-untyped-def]
    with get_backend("embedded") as b:
        yield b


def _conn(backend) -> http.client.HTTPConnection:  # type: ignore[no-untyped-def]
    u = urlsplit(backend.endpoint_url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=5)


def _list_tables(conn: http.client.HTTPConnection) -> http.client.HTTPResponse:
    headers = {"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0",
               "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/dynamodb/aws4_request, "
                                "SignedHeaders=host, Signature=0"}
    conn.request("POST", "/", body=b"{}", headers=headers)
    return conn.getresponse()


def test_one_connection_serves_many_requests(backend) -> None:  # type: ignore[no-untyped-def]
    conn = _conn(backend)
    first = _list_tables(conn)
    assert first.status == 200 and b"TableNames" in first.read()
    assert first.getheader("Connection") != "close"
    sock = conn.sock
    for _ in range(3):
        resp = _list_tables(conn)
        assert resp.status == 200 and b"TableNames" in resp.read()
        assert conn.sock is sock, "the client had to reconnect: keep-alive is off"
    conn.close()


def test_boto3_reuses_its_connection(backend) -> None:  # type: ignore[no-untyped-def]
    ddb = backend.client("dynamodb")
    ddb.list_tables()
    pool = ddb._endpoint.http_session._manager.connection_from_url(backend.endpoint_url)
    made = pool.num_connections
    for _ in range(5):
        ddb.list_tables()
    assert pool.num_connections == made


def test_chunked_upload_and_head_still_work(backend) -> None:  # type: ignore[no-untyped-def]
    s3 = backend.client("s3")
    s3.create_bucket(Bucket="keepalive-chunked")

    def body():  # a generator: http.client sends it with Transfer-Encoding: chunked
        yield b"hello "
        yield b"world"

    u = urlsplit(backend.endpoint_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
    conn.request("PUT", "/keepalive-chunked/obj", body=body(), encode_chunked=True,
                 headers={"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/s3/aws4_request, "
                                           "SignedHeaders=host, Signature=0"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200
    assert resp.getheader("Connection") == "close"  # a chunked request body ends the connection
    conn.close()
    assert s3.get_object(Bucket="keepalive-chunked", Key="obj")["Body"].read() == b"hello world"
    head = s3.head_object(Bucket="keepalive-chunked", Key="obj")
    assert head["ContentLength"] == 11
    s3.head_object(Bucket="keepalive-chunked", Key="obj")  # the connection after a HEAD is still in sync


def test_stop_cuts_kept_alive_connections() -> None:
    with get_backend("embedded") as b:
        conn = _conn(b)
        _list_tables(conn).read()
        sock = conn.sock
    sock.settimeout(5)
    assert sock.recv(1) == b"", "the server should have closed the idle connection on stop"
