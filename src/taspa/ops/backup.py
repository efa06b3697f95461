"""Backup and restore of the embedded default (SQLite and files under ``TASPA_HOME``).

A backup directory holds ``database.sqlite3`` (SQLite's online backup API: a consistent copy
while the server runs), ``home/`` (the blob store, the archive, trust anchors and the other
files of ``TASPA_HOME``; copied *after* the database, so every blob the database names is in
it: blobs are immutable and written before the rows that name them), and ``MANIFEST.json``
(size and SHA-256 of every file). The secrets are written to a *separate* directory (README,
"Security"): the KEK, which opens the EDS keys the database holds only encrypted, the audit key,
without which the audit chain cannot be checked, and the secret key. A database copy alone can
neither sign nor rewrite history unnoticed.

The cluster (PostgreSQL, S3) is backed up with its own tools: docs/operations.md, section 14.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

MANIFEST = "MANIFEST.json"
DATABASE = "database.sqlite3"
HOME = "home"
STORAGE = "storage"
# The secrets, by file name under TASPA_HOME and the variable that overrides each.
SECRETS = {"kek": "TASPA_KEY_ENCRYPTION_KEY", "audit_key": "TASPA_AUDIT_KEY",
           "secret_key": "TASPA_SECRET_KEY"}  # fmt: skip
# Not part of a backup: caches, scratch space, captures in progress, collected static files.
SKIPPED = frozenset({"static", "playback", "tmp", "spool", "log"})


class BackupError(Exception):
    """A backup or restore that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class Summary:
    files: int
    bytes: int
    keys_written: bool


def _embedded_only() -> tuple[Path, Path]:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.sqlite3":
        raise BackupError(
            "taspa backup is for the embedded default (SQLite); back up PostgreSQL with "
            "pg_dump (docs/operations.md, section 14)"
        )
    if not settings.TASPA_STORAGE.startswith("file://"):
        raise BackupError(
            "TASPA_STORAGE is S3: replicate the bucket instead (docs/operations.md, section 14)"
        )
    return Path(db["NAME"]), Path(settings.TASPA_STORAGE.removeprefix("file://")).resolve()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_database_file(path: Path, database: Path) -> bool:
    return path.name.startswith(database.name)


def _copy_tree(source: Path, target: Path, *, skip_top: frozenset[str], database: Path) -> None:
    for root, dirs, files in os.walk(source):
        here = Path(root)
        if here == source:
            dirs[:] = [d for d in dirs if d not in skip_top]
        for name in files:
            path = here / name
            if here == source and (name in SECRETS or _is_database_file(path, database)):
                continue
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: a consistent copy even while another process writes."""
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)


def _secrets() -> dict[str, str]:
    from taspa.sealing.keystore import key_encryption_key

    return {
        "kek": key_encryption_key().hex(),
        "audit_key": settings.TASPA_AUDIT_KEY,
        "secret_key": settings.SECRET_KEY,
    }


def _write_secret(path: Path, value: str) -> None:
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)


def backup(target: Path, *, keys: Path | None) -> Summary:
    """Write a backup of this installation to ``target`` (new or empty), secrets to ``keys``."""
    database, store_root = _embedded_only()
    home = Path(settings.TASPA_HOME).resolve()
    target = target.resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    if keys is not None:
        keys = keys.resolve()
        if keys == target or keys.is_relative_to(target) or target.is_relative_to(keys):
            raise BackupError("--keys must be a directory apart from the backup (README, Security)")
    if target.is_relative_to(home):
        raise BackupError(f"{target} is inside TASPA_HOME: the backup would copy itself")
    target.mkdir(parents=True, exist_ok=True)
    _sqlite_copy(database, target / DATABASE)  # consistent even while the server writes
    _copy_tree(home, target / HOME, skip_top=SKIPPED, database=database)
    if not store_root.is_relative_to(home):
        _copy_tree(store_root, target / STORAGE, skip_top=frozenset({"tmp"}), database=database)
    files = sorted(p for p in target.rglob("*") if p.is_file())
    entries = {str(p.relative_to(target)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
               for p in files}  # fmt: skip
    manifest = {
        "made_at": datetime.now(UTC).isoformat(),
        "taspa_home": str(home),
        "storage": settings.TASPA_STORAGE,
        "keys_apart": keys is not None,
        "files": entries,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    if keys is not None:
        keys.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, value in _secrets().items():
            _write_secret(keys / name, value)
    total = sum(e["bytes"] for e in entries.values())
    return Summary(files=len(entries), bytes=total, keys_written=keys is not None)


def _check_manifest(source: Path) -> dict:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{source} is not a Taspa backup: {error}") from error
    for name, entry in manifest["files"].items():
        path = source / name
        if not path.is_file() or path.stat().st_size != entry["bytes"]:
            raise BackupError(f"the backup is damaged: {name} is missing or truncated")
        if _sha256(path) != entry["sha256"]:
            raise BackupError(f"the backup is damaged: {name} does not match its SHA-256")
    return manifest


def restore(source: Path, *, keys: Path | None) -> Summary:
    """Restore the backup in ``source`` into this (fresh) TASPA_HOME; secrets from ``keys``."""
    database, store_root = _embedded_only()
    home = Path(settings.TASPA_HOME).resolve()
    source = source.resolve()
    if database.exists() and database.stat().st_size > 0:
        raise BackupError(f"{database} exists: restore only into a fresh TASPA_HOME")
    manifest = _check_manifest(source)
    if keys is not None:
        _check_keys(keys)
    _sqlite_copy(source / DATABASE, database)
    _copy_tree(source / HOME, home, skip_top=frozenset(), database=database)
    if (source / STORAGE).is_dir():
        _copy_tree(source / STORAGE, store_root, skip_top=frozenset(), database=database)
    if keys is not None:
        for name in SECRETS:
            if os.environ.get(SECRETS[name]) or os.environ.get(f"{SECRETS[name]}_FILE"):
                continue  # configured from the environment: checked equal above
            _write_secret(home / name, (keys / name).read_text(encoding="utf-8").strip())
    total = sum(e["bytes"] for e in manifest["files"].values())
    return Summary(files=len(manifest["files"]), bytes=total, keys_written=keys is not None)


def _check_keys(keys: Path) -> None:
    from taspa.env import env_str

    for name, variable in SECRETS.items():
        path = keys / name
        if not path.is_file():
            raise BackupError(f"{path} is missing: the keys directory needs {', '.join(SECRETS)}")
        configured = env_str(variable)
        if configured and name != "kek" and configured != path.read_text("utf-8").strip():
            raise BackupError(f"{variable} is set and differs from the backed-up {name}")
