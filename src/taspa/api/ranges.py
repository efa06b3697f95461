"""HTTP Range (RFC 9110 §14) for media files: players seek in hours-long recordings."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 1 << 20


def _read(path: Path, start: int, length: int) -> Iterator[bytes]:
    with path.open("rb") as stream:
        stream.seek(start)
        while length > 0:
            chunk = stream.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def ranged_file_response(request: HttpRequest, path: Path, content_type: str) -> HttpResponse:
    """The whole file (200), one byte range (206) or 416 for a range outside the file."""
    size = path.stat().st_size
    wanted = parse_range(request.headers.get("Range", ""), size)
    if wanted is None:
        response = FileResponse(path.open("rb"), content_type=content_type)
        response["Accept-Ranges"] = "bytes"
        return response
    if wanted is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, stop = wanted
    length = stop - start
    response = StreamingHttpResponse(
        _read(path, start, length), status=206, content_type=content_type
    )
    response["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    return response


def parse_range(header: str, size: int) -> tuple[int, int] | bool | None:
    """``(start, end)`` half-open for a satisfiable single range, ``None`` for no (or an
    ignored) Range header, ``False`` for a range outside the file (416)."""
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # suffix range: the last N bytes
        start = max(size - int(last), 0)
        end = size - 1
    if start >= size or start > end:
        return False
    return start, end + 1


def ranged_stream_response(
    request: HttpRequest,
    size: int,
    chunks: Callable[[int, int], Iterator[bytes]],
    content_type: str,
) -> HttpResponse:
    """Like ``ranged_file_response`` for bytes that are not a local file (a blob store's):
    ``chunks(start, end)`` yields bytes ``[start, end)``."""
    span = parse_range(request.headers.get("Range", ""), size)
    if span is False:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = span or (0, size)
    content = chunks(start, end)
    if isinstance(request, ASGIRequest):
        # Under ASGI Django would read a synchronous iterator whole into memory before sending
        # it (a multi-GB recording); step through it chunk by chunk instead.
        content = _one_chunk_at_a_time(content)
    response = StreamingHttpResponse(
        content, status=206 if span else 200, content_type=content_type
    )
    if span:
        response["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response["Content-Length"] = str(end - start)
    response["Accept-Ranges"] = "bytes"
    return response


async def _one_chunk_at_a_time(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The chunks of a synchronous iterator, each read in the request's sync thread (it may
    touch the database: a refusal is recorded there) as the client takes them."""
    done = object()
    step = sync_to_async(next, thread_sensitive=True)
    try:
        while (chunk := await step(chunks, done)) is not done:
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=True)()
