"""Helpers for the centre's tests: a court recording's sealed bytes, a PUT to a presigned S3
URL, and how many times a path is opened (the commit's "read once" claims)."""

from __future__ import annotations

import http.client
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from taspa.sealing.layout import SealedRecording
from taspa.storage.store import get_store

_OPENS: dict[str, int] = {}  # path -> opens seen while watched (the audit hook below)


def _count_opens(event: str, args: tuple) -> None:
    if event == "open" and args and isinstance(args[0], str | bytes | os.PathLike):
        name = os.fsdecode(args[0])
        if name in _OPENS:
            _OPENS[name] += 1


sys.addaudithook(_count_opens)  # cannot be removed; inert for paths not watched


@contextmanager
def opens_of(path: Path) -> Iterator[dict[str, int]]:
    """How many times ``path`` is opened (any mode, by any code in this process) inside;
    read the count before the block ends."""
    key = os.fspath(path)
    _OPENS[key] = 0
    try:
        yield _OPENS
    finally:
        _OPENS.pop(key, None)


def sealed_bytes(recording) -> dict[str, bytes]:
    """Every blob of a sealed recording, by kind, as the court's store holds it."""
    sealed, store = SealedRecording.of(recording), get_store()
    out = {}
    for kind, digest in sealed.blobs().items():
        with store.open(digest) as blob:
            out[kind] = blob.read()
    return out


def put(url: str, headers: dict[str, str], data: bytes) -> int:
    """``PUT`` ``data`` to a presigned URL; the response's status."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("PUT", f"{parts.path}?{parts.query}", body=data, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()
