"""Just enough HTTP/1.1 for the Lambda Runtime API, over one blocking socket.

Hand-rolled because every warm invoke crosses it twice: http.server's per-request overhead
and its separate header/body writes (which meet Nagle + delayed ACK for a 40 ms stall) would
dominate the <2 ms budget. Responses go out in ONE sendall on a TCP_NODELAY socket.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

MAX_HEADER_BYTES = 64 * 1024
_REASONS = {100: "Continue", 200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden",
            404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large", 500: "Internal Server Error"}


class HttpProtocolError(Exception):
    """The peer sent something that is not the HTTP/1.1 we speak; the connection is dropped."""


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def wants_close(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


class HttpConnection:
    """One keep-alive connection from a runtime client (awslambdaric's curl handle or http.client)."""

    def __init__(self, sock: socket.socket) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = sock
        self._buf = bytearray()

    def _fill(self) -> bool:
        chunk = self.sock.recv(262144)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def _read_exact(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not self._fill():
                raise HttpProtocolError(f"connection closed with {n - len(self._buf)} body bytes unread")
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def _read_line(self) -> bytes:
        while True:
            idx = self._buf.find(b"\r\n")
            if idx >= 0:
                line = bytes(self._buf[:idx])
                del self._buf[: idx + 2]
                return line
            if len(self._buf) > MAX_HEADER_BYTES or not self._fill():
                raise HttpProtocolError("connection closed inside a chunked body")

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size_line = self._read_line().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise HttpProtocolError(f"bad chunk size {size_line!r}") from None
            if size == 0:
                while self._read_line():  # trailers, up to the blank line
                    pass
                return b"".join(parts)
            parts.append(self._read_exact(size))
            self._read_exact(2)

    def read_request(self) -> Request | None:
        """The next request, or None when the peer closed the connection cleanly between requests."""
        while True:
            idx = self._buf.find(b"\r\n\r\n")
            if idx >= 0:
                break
            if len(self._buf) > MAX_HEADER_BYTES:
                raise HttpProtocolError("request headers exceed 64 KiB")
            if not self._fill():
                if self._buf:
                    raise HttpProtocolError("connection closed inside request headers")
                return None
        head = bytes(self._buf[:idx]).decode("latin-1")
        del self._buf[: idx + 4]
        lines = head.split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            raise HttpProtocolError(f"bad request line {lines[0]!r}") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("expect", "").lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        else:
            try:
                length = int(headers.get("content-length", "0") or 0)
            except ValueError:
                raise HttpProtocolError(f"bad Content-Length {headers['content-length']!r}") from None
            body = self._read_exact(length) if length else b""
        return Request(method, target, headers, body)

    def send(self, status: int, body: bytes = b"", headers: tuple[tuple[str, str], ...] = (),
             content_type: str = "application/json") -> None:
        """Status line, headers and body in a single write (see module docstring)."""
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n",
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"]
        for name, value in headers:
            head.append(f"{name}: {value}\r\n")
        head.append("\r\n")
        self.sock.sendall("".join(head).encode("latin-1") + body)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass
