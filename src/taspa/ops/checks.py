"""Readiness: is each dependency this process needs usable right now? One ``Check`` each."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

# Below this much free space the spool cannot take another hearing's capture.
SPOOL_MIN_FREE_BYTES = 1 << 30


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float


def _timed(name: str, probe: Callable[[], str]) -> Check:
    started = time.monotonic()
    try:
        detail, ok = probe(), True
    except Exception as error:  # any failure of a dependency means "not ready", with why
        detail, ok = f"{type(error).__name__}: {error}"[:500], False
    return Check(name, ok, detail, round(time.monotonic() - started, 4))


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


PROBE_DIGEST = "0" * 64


def _blob_store() -> str:
    from taspa.storage.store import get_store

    store = get_store()
    # A read of a blob that does not exist: reaches the bucket (or directory) without writing.
    store.exists(PROBE_DIGEST)
    root = getattr(store, "root", None)
    if root is not None:
        with tempfile.NamedTemporaryFile(dir=Path(root) / "tmp", prefix=".readyz-"):
            pass
    if getattr(store, "object_lock", True) is False and not settings.TASPA_S3_WITHOUT_OBJECT_LOCK:
        # R24: without object lock a recording's retention cannot be enforced by the bucket.
        raise RuntimeError(
            f"{store!r} has no object lock (set TASPA_S3_WITHOUT_OBJECT_LOCK=true to accept it)"
        )
    return repr(store)


def _spool() -> str:
    spool = Path(settings.TASPA_SPOOL)
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=spool, prefix=".readyz-"):
        pass
    free = shutil.disk_usage(spool).free
    if free < SPOOL_MIN_FREE_BYTES:
        raise OSError(f"{free} bytes free in {spool}, below {SPOOL_MIN_FREE_BYTES}")
    return f"{free} bytes free"


def readiness() -> list[Check]:
    """Database, blob store and spool disk, each checked and timed."""
    return [
        _timed("database", _database),
        _timed("blob_store", _blob_store),
        _timed("spool", _spool),
    ]


class UnlockedBucket(Exception):
    """The S3 bucket has no object lock and nobody said that is acceptable."""


def refuse_unlocked_bucket() -> None:
    """At the start of ``taspa serve`` and ``taspa worker``: an S3 bucket without object lock
    cannot keep recordings write-once (R24), so Taspa does not start on one unless
    ``TASPA_S3_WITHOUT_OBJECT_LOCK=true``. A store that cannot be reached is not refused here:
    ``/readyz`` reports it, and the process serves once it answers."""
    if not settings.TASPA_STORAGE.startswith("s3://") or settings.TASPA_S3_WITHOUT_OBJECT_LOCK:
        return
    from taspa.storage.store import get_store

    store = get_store()
    try:
        locked = store.object_lock
    except Exception:  # unreachable now: readiness says so
        return
    if not locked:
        raise UnlockedBucket(
            f"TASPA_STORAGE={settings.TASPA_STORAGE}: the bucket has no object lock, so "
            "recordings would not be write-once (R24); create it with object lock, or set "
            "TASPA_S3_WITHOUT_OBJECT_LOCK=true to accept that"
        )
