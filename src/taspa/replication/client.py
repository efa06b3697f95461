"""The court's HTTP client to the centre (R23): JSON offers and acknowledgements,
``Content-Range`` chunk uploads with ``Content-Digest``, and, for a centre whose store is S3,
part uploads straight to the presigned S3 URLs it hands out (standard library ``http.client``).

``Fault`` is a test hook: it breaks the connection in the middle of a chunk's body after a
given number of bytes, exactly as a cut cable or a killed process would.
"""

from __future__ import annotations

import http.client
import json
import re
import select
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from taspa.replication.policy import content_digest, content_range, repr_digest

IDLE_REUSE_S = 2.0  # a kept-alive connection idle longer is not trusted with a stream


class CentralError(Exception):
    """The centre refused, or could not be reached."""

    def __init__(self, status: int, code: str, detail: str, body: dict | None = None) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status, self.code, self.detail, self.body = status, code, detail, body or {}


class TransferBroken(CentralError):
    """The connection broke during a transfer; what the centre verified stands."""

    def __init__(self, detail: str) -> None:
        super().__init__(0, "transfer_broken", detail)


@dataclass
class Fault:
    """Break the connection once ``after_bytes`` bytes of chunk bodies have been sent."""

    after_bytes: int
    sent: int = 0
    fired: bool = False
    cut_at: int | None = None  # where in its file a streamed upload was cut


class Central(Protocol):
    """The replication peer interface (STYLE: an interface only at real I/O)."""

    def offer(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def put_chunk(
        self, replica: int, kind: str, start: int, data: bytes, total: int
    ) -> dict[str, Any]: ...

    def put_stream(
        self,
        replica: int,
        kind: str,
        start: int,
        total: int,
        digests: tuple[str, str],
        body: Iterable[bytes],
    ) -> dict[str, Any]: ...

    def commit(self, replica: int) -> dict[str, Any]: ...

    def parts(self, replica: int, kind: str) -> dict[str, Any]: ...

    def presign(self, replica: int, kind: str, parts: list[dict[str, Any]]) -> dict[str, Any]: ...

    def put_part(self, url: str, headers: dict[str, str], data: bytes) -> str: ...

    def witness(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def witnessed(self) -> dict[str, Any]: ...


class HttpCentral:
    """The centre at ``base_url`` (e.g. ``https://centre.example/``), with a court token."""

    def __init__(
        self, base_url: str, token: str, *, timeout: float = 60.0, fault: Fault | None = None
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CentralError(0, "bad_central_url", f"TASPA_CENTRAL_URL={base_url!r}")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path + "/api/v1"
        self.token, self.timeout, self.fault = token, timeout, fault
        # Kept-alive connections, one set per thread (S3 parts go up from several at once).
        self._local = threading.local()
        self._fault_lock = threading.Lock()

    @property
    def _conn(self) -> http.client.HTTPConnection | None:
        return getattr(self._local, "conn", None)

    @_conn.setter
    def _conn(self, conn: http.client.HTTPConnection | None) -> None:
        self._local.conn = conn

    @property
    def _s3(self) -> dict[tuple[str, str, int | None], http.client.HTTPConnection]:
        if not hasattr(self._local, "s3"):
            self._local.s3 = {}
        return self._local.s3

    def _open(self, scheme: str, host: str, port: int | None) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = kind(host, port, timeout=self.timeout)
        conn.blocksize = 1 << 20  # file bodies go out in 1 MiB writes, not 8 KiB ones
        return conn

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = self._open(self.scheme, self.host, self.port)
        return self._conn

    def close(self) -> None:
        """Close this thread's connections (each worker closes its own when it is done)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._local.used = False
        for conn in self._s3.values():
            conn.close()
        self._s3.clear()

    def _request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        for attempt in (1, 2):
            reused = self._conn is not None and getattr(self._local, "used", False)
            try:
                conn = self._connection()
                conn.request(method, self.prefix + path, body=body, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                self._local.used, self._local.at = True, time.monotonic()
                break
            except (OSError, http.client.HTTPException) as error:
                self.close()
                # A kept-alive connection the server closed while it sat idle (this thread
                # waited on an upload): every call here is idempotent, so it is tried once
                # more on a fresh connection; a fresh connection failing is a broken transfer.
                if not (reused and attempt == 1):
                    raise TransferBroken(f"{method} {path}: {error}") from None
        return _answer(response.status, raw)

    def _json(self, method: str, path: str, payload: dict | None = None) -> dict[str, Any]:
        body = json.dumps(payload or {}).encode()
        return self._request(method, path, body, {"Content-Type": "application/json"})

    def offer(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/replication/replicas", body)

    def commit(self, replica: int) -> dict[str, Any]:
        return self._json("POST", f"/replication/replicas/{replica}/commit")

    def witness(self, body: dict[str, Any]) -> dict[str, Any]:
        """The audit head and new evidence roots; the centre's signed receipt (issue 15)."""
        return self._json("POST", "/replication/witness", body)

    def witnessed(self) -> dict[str, Any]:
        """Every audit head and evidence root the centre witnessed for this court."""
        return self._request("GET", "/replication/witness")

    def parts(self, replica: int, kind: str) -> dict[str, Any]:
        """S3 centres: the parts S3 holds of one file."""
        return self._request("GET", f"/replication/replicas/{replica}/files/{kind}/parts")

    def presign(self, replica: int, kind: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
        """S3 centres: presigned URLs for ``parts`` (``{number, sha256, bytes}`` each)."""
        path = f"/replication/replicas/{replica}/files/{kind}/parts"
        return self._json("POST", path, {"parts": parts})

    def put_part(self, url: str, headers: dict[str, str], data: bytes) -> str:
        """``PUT`` one part to its presigned S3 URL with the signed headers; returns the
        ETag. S3 refusing the part (``BadDigest``, an expired URL) is a ``CentralError``."""
        parts = urlsplit(url)
        where = (parts.scheme, parts.hostname or "", parts.port)
        target = urlunsplit(("", "", parts.path, parts.query, ""))
        if where not in self._s3:
            self._s3[where] = self._open(*where)
        conn = self._s3[where]
        if self.fault is not None and not self.fault.fired:
            self._maybe_break(conn, target, data, headers)
        try:
            conn.request("PUT", target, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise TransferBroken(f"PUT part to {parts.hostname}: {error}") from None
        if response.status != 200:
            code = re.search(rb"<Code>([^<]*)</Code>", raw)
            name = code.group(1).decode("ascii", "replace") if code else "error"
            raise CentralError(response.status, f"s3_{name}", raw[:300].decode("utf-8", "replace"))
        return response.getheader("ETag", "")

    def put_chunk(
        self, replica: int, kind: str, start: int, data: bytes, total: int
    ) -> dict[str, Any]:
        path = f"/replication/replicas/{replica}/files/{kind}"
        headers = {
            "Content-Range": content_range(start, len(data), total),
            "Content-Type": "application/octet-stream",
        }
        if data:
            headers["Content-Digest"] = content_digest(data)
        if self.fault is not None and not self.fault.fired:
            signed = {"Authorization": f"Bearer {self.token}", **headers}
            self._maybe_break(self._connection(), self.prefix + path, data, signed)
        return self._request("PUT", path, data, headers)

    def put_stream(
        self,
        replica: int,
        kind: str,
        start: int,
        total: int,
        digests: tuple[str, str],
        body: Iterable[bytes],
    ) -> dict[str, Any]:
        """``PUT`` the file's bytes ``start..total-1`` from ``body`` in one request, with
        ``Repr-Digest`` (``digests[0]``: the whole file's SHA-256) and, from ``start`` > 0,
        ``Prefix-Digest`` (``digests[1]``: the SHA-256 of bytes 0..start-1). Returns the
        centre's answer (``offset`` where it stands). A broken connection is
        ``TransferBroken``; ``body`` raising stops the request unfinished (nothing counts as
        complete at the centre), and the error goes on up."""
        whole, prefix = digests
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/octet-stream",
            "Content-Range": f"bytes {start}-{total - 1}/{total}",
            "Content-Length": str(total - start),
            "Repr-Digest": repr_digest(whole),
            "Expect": "100-continue",  # a refusal comes before the body is sent
        }
        if start:
            headers["Prefix-Digest"] = repr_digest(prefix)
        if time.monotonic() - getattr(self._local, "at", 0.0) > IDLE_REUSE_S:
            self.close()  # the server may have closed it meanwhile; a body cannot be re-sent
        path, position = f"{self.prefix}/replication/replicas/{replica}/files/{kind}", start
        try:
            conn = self._connection()
            conn.putrequest("PUT", path, skip_accept_encoding=True)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.endheaders()
            if _go_on(conn):
                for chunk in body:
                    self._cut_here(conn, chunk, position)
                    conn.send(chunk)
                    position += len(chunk)
            response = conn.getresponse()
            raw = response.read()
            self._local.used, self._local.at = True, time.monotonic()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise TransferBroken(f"PUT {path}: {error}") from None
        except BaseException:
            self.close()  # the request is left unfinished: the centre never completes it
            raise
        return _answer(response.status, raw)

    def _cut_here(self, conn: http.client.HTTPConnection, chunk: bytes, position: int) -> None:
        """The test hook in a streamed body: send up to the fault's byte, then cut."""
        fault = self.fault
        if fault is None or fault.fired:
            return
        with self._fault_lock:
            if fault.sent + len(chunk) <= fault.after_bytes:
                fault.sent += len(chunk)
                return
            fault.fired, part = True, fault.after_bytes - fault.sent
            fault.cut_at = position + part
        conn.send(chunk[:part])
        if conn.sock is not None:
            conn.sock.shutdown(socket.SHUT_RDWR)
        self.close()
        raise TransferBroken(f"connection cut after {fault.after_bytes} bytes (test fault)")

    def _maybe_break(
        self, conn: http.client.HTTPConnection, target: str, data: bytes, headers: dict[str, str]
    ) -> None:
        """The test hook: send part of the body, then cut the connection."""
        fault = self.fault
        with self._fault_lock:
            if fault.fired or fault.sent + len(data) <= fault.after_bytes:
                fault.sent += 0 if fault.fired else len(data)
                return
            fault.fired = True
            already = fault.sent
        conn.putrequest("PUT", target)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(data)))
        conn.endheaders()
        conn.send(data[: max(0, fault.after_bytes - already)])
        if conn.sock is not None:
            conn.sock.shutdown(socket.SHUT_RDWR)
        self.close()
        raise TransferBroken(f"connection cut after {fault.after_bytes} bytes (test fault)")


CONTINUE_WAIT_S = 5.0  # a server that says nothing this long gets the body anyway (RFC 9110)


def _go_on(conn: http.client.HTTPConnection) -> bool:
    """After ``Expect: 100-continue`` headers: True once the server said ``100 Continue``
    (consumed here) or said nothing in time; False when its final answer came instead."""
    sock = conn.sock
    if sock is None or not select.select([sock], [], [], CONTINUE_WAIT_S)[0]:
        return True
    head = sock.recv(64, socket.MSG_PEEK)
    for _ in range(100):  # a status line split across segments: wait for its code
        if len(head) >= 12 or not head:
            break
        time.sleep(0.01)
        head = sock.recv(64, socket.MSG_PEEK)
    if not re.match(rb"HTTP/1\.[01] 100\b", head):
        return False  # the final answer: getresponse reads it
    seen = b""
    while not seen.endswith(b"\r\n\r\n"):  # the interim answer, to its blank line only
        byte = sock.recv(1)
        if not byte:
            return True  # closed: sending fails and says so
        seen += byte
    return True


def _answer(status: int, raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = {"error": "not_json", "detail": raw[:200].decode("utf-8", "replace")}
    if status >= 400 and "offset" not in body:  # a chunk refusal says where to resume
        raise CentralError(status, body.get("error", "error"), body.get("detail", ""), body)
    return body
