"""The centre's streaming upload route, in front of Django (``taspa.asgi``; R23, ADR 0006).

A court streams the rest of a file in one ``PUT /api/v1/replication/replicas/{id}/files/{kind}``
with ``Content-Range: bytes N-(TOTAL-1)/TOTAL``, ``Repr-Digest`` (the whole file's SHA-256)
and, from N > 0, ``Prefix-Digest`` (the SHA-256 of bytes 0..N-1). Django's ASGI handler would
first spool such a body into a temporary file (a second copy and a second pass over the
bytes), so these requests are answered here: the same bearer-token check as the API
(``user_for_token``), the same rule (``peer_of``: only an enrolled court's service user) and
the same domain action (``central.receive_chunk``), run on the request's thread while the
event loop goes on receiving the next part of the body. Every other request, chunk uploads
with a ``Content-Digest`` included, goes to Django unchanged.
"""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import Future
from typing import Any

from asgiref.sync import sync_to_async

_PATH = re.compile(r"^/api/v1/replication/replicas/([0-9]{1,18})/files/([A-Za-z0-9_]{1,40})$")
GATHER_BYTES = 4 << 20  # what the event loop collects for the writer thread at a time
UNAUTHORIZED = {"error": "unauthorized", "detail": "A valid bearer token is required."}


class StreamedUploads:
    """ASGI middleware: streamed replica uploads (with ``Repr-Digest``) bypass Django."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("method") == "PUT":
            match = _PATH.match(scope.get("path", ""))
            if match:
                headers = _headers(scope)
                token = headers.get("authorization", "")
                if "repr-digest" in headers and token[:7].lower() == "bearer ":
                    await _upload(match, headers, token[7:].strip(), receive, send)
                    return
        await self.app(scope, receive, send)


def _headers(scope: dict) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }


class AsgiBody:
    """The request body as a file-like ``read`` for a worker thread. Each ``read`` hands over
    one message's bytes; the event loop gathers the next ``GATHER_BYTES`` meanwhile, so the
    network is read while the thread hashes and writes. A client gone is the end (short)."""

    def __init__(self, receive: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._receive, self._loop = receive, loop
        self._parts: list[bytes] = []
        self._next: Future[list[bytes]] | None = None
        self.ended = False  # the body was read to its end (or the client left)
        self.disconnected = False

    async def _gather(self) -> list[bytes]:
        parts, size = [], 0
        while not self.ended and size < GATHER_BYTES:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self.ended = self.disconnected = True
                parts += _unread(self._receive)
                break
            data = message.get("body", b"")
            if data:
                parts.append(data)
                size += len(data)
            if not message.get("more_body", False):
                self.ended = True
        return parts

    def _ask(self) -> None:
        self._next = asyncio.run_coroutine_threadsafe(self._gather(), self._loop)

    def read(self, size: int = -1) -> bytes | memoryview:
        while not self._parts:
            if self._next is None:
                if self.ended:
                    return b""
                self._ask()
            assert self._next is not None
            parts, self._next = self._next.result(), None
            if not self.ended:
                self._ask()  # the loop reads on while this thread works
            self._parts = parts[::-1]
        data = self._parts.pop()
        if 0 <= size < len(data):
            self._parts.append(memoryview(data)[size:])
            return memoryview(data)[:size]
        return data

    def settle(self) -> None:
        """Wait for the batch in flight (the loop must not be left reading for nobody)."""
        if self._next is not None:
            try:
                self._next.result()
            finally:
                self._next = None


def _unread(receive: Any) -> list[bytes]:
    """Body bytes the server had read from the socket but not handed over when the client
    left (uvicorn's request cycle keeps them in ``body``): they arrived, in order, so they
    count towards the offset to resume from. Nothing when the server keeps no such buffer."""
    left = getattr(getattr(receive, "__self__", None), "body", None)
    return [bytes(left)] if isinstance(left, bytearray | bytes) and left else []


def _handle(match: re.Match, headers: dict[str, str], token: str, body: AsgiBody) -> tuple:
    """On the request's thread: authenticate, call the domain action, shape the answer."""
    from django.db import close_old_connections

    from taspa.api.actions import user_for_token
    from taspa.errors import DomainError, InvalidInput
    from taspa.replication.api import chunk_answer
    from taspa.replication.central import peer_of, receive_chunk
    from taspa.replication.policy import parse_content_range

    close_old_connections()
    try:
        user = user_for_token(token) if token else None
        if user is None:
            return 401, UNAUTHORIZED, {}
        try:
            peer = peer_of(user)
            span = parse_content_range(headers.get("content-range", ""))
            if span is None or headers.get("content-length", "") != str(span.length):
                raise InvalidInput(
                    "bad_content_range",
                    "Content-Range: bytes START-END/TOTAL expected, Content-Length its length.",
                )
            result = receive_chunk(
                peer=peer,
                replica_id=int(match.group(1)),
                kind=match.group(2),
                span=span,
                body=body,
                digest=headers.get("content-digest", ""),
                repr_digest=headers.get("repr-digest", ""),
                prefix_digest=headers.get("prefix-digest", ""),
                max_length=None,  # straight to disk: a file's whole rest in one request
            )
        except DomainError as error:
            return error.status, {"error": error.code, "detail": error.detail}, {}
        return chunk_answer(result)
    finally:
        body.settle()
        close_old_connections()


async def _upload(
    match: re.Match, headers: dict[str, str], token: str, receive: Any, send: Any
) -> None:
    body = AsgiBody(receive, asyncio.get_running_loop())
    status, payload, extra = await sync_to_async(_handle, thread_sensitive=True)(
        match, headers, token, body
    )
    data = json.dumps(payload).encode()
    response = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in extra.items()),
    ]
    if not body.ended:  # refused before its body was read: the rest is not waited for
        response.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": response})
    await send({"type": "http.response.body", "body": data})
