"""Seal a finished recording: its signature, its manifest and the manifest's signature (R14).

``sign_manifest_and_media`` makes those bytes; the server puts them into the blob store
(``sealing.actions.seal``). ``seal_recording`` writes them as files beside the media: the
portable layout of ``layout.py`` that ``taspa verify`` reads on a user's disk.

The media is not read again: the capture engine hashed it while recording, and the signature is
made from that digest (``Signer.sign_digest``). Every file is written crash-safe (temp file in
the same directory, fsync, rename, fsync of the directory), in an order that makes a half-sealed
recording impossible to take for a sealed one: manifest, manifest signature, and last the media
signature, whose presence is what "sealed" means (see ``layout.py``).

With a TSA configured each signature also gets an RFC 3161 timestamp (``timestamps.py``); when
the TSA fails the seal goes ahead without it and the caller queues the token for later.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from taspa.errors import Conflict, InvalidInput
from taspa.files import fsync_path
from taspa.sealing.layout import SealedFiles, recording_file_name
from taspa.sealing.manifest import canonical_bytes, manifest_problems
from taspa.sealing.revocation import RevocationEvidence, embed
from taspa.sealing.signing import Signer, sign_file
from taspa.sealing.timestamps import TimeStamper, TimestampUnavailable, add_timestamp

__all__ = ["SealedFiles", "recording_file_name", "seal_recording", "write_atomic"]
log = logging.getLogger("taspa.sealing")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` holds either nothing or all of it."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_path(path.parent)


def _move_media(source: Path, target: Path) -> None:
    """Put the media under its final name; never overwrite another file."""
    if source.resolve() == target.resolve():
        return
    if target.exists():
        raise Conflict(
            "media_exists",
            _("%(target)s already exists; media is never overwritten."),
            params={"target": target},
        )
    try:
        os.link(source, target)
        os.unlink(source)
    except OSError as error:
        if error.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP):
            raise
        # Another file system (or no hard links): copy, fsync, then drop the source.
        temp = target.with_name(f".{target.name}.tmp")
        with open(source, "rb") as src, open(temp, "wb") as dst:
            shutil.copyfileobj(src, dst, 4 * 1024 * 1024)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(temp, target)
        os.unlink(source)
    fsync_path(target.parent)


def _field(result_like: Any, name: str) -> Any:
    if isinstance(result_like, dict):
        return result_like.get(name)
    return getattr(result_like, name, None)


def _check(manifest: dict[str, Any], result_like: Any, media: Path | None) -> None:
    problems = manifest_problems(manifest)
    if problems:
        raise InvalidInput(
            "manifest_incomplete",
            _("The recording's description is incomplete, so it cannot be sealed."),
            technical="; ".join(problems),  # the manifest's own field names, for the staff
        )
    file = manifest["file"]
    if file["sha256"] != _field(result_like, "sha256"):
        raise InvalidInput("seal_mismatch", _("The manifest's SHA-256 is not the capture's."))
    if file["bytes"] != _field(result_like, "bytes"):
        raise InvalidInput("seal_mismatch", _("The manifest's size is not the capture's."))
    if media is None:
        return
    size = media.stat().st_size
    if size != file["bytes"]:
        raise InvalidInput(
            "seal_mismatch",
            _("%(media_name)s has %(size)s bytes, the capture reported %(file)s."),
            params={"media_name": media.name, "size": size, "file": file["bytes"]},
        )


class _StampWhileUp:
    """Adds signature timestamps until the TSA fails once; then the rest of this seal goes
    without, so a TSA that is down costs one timeout, not one per signature (R14)."""

    def __init__(self, timestamper: TimeStamper | None) -> None:
        self.timestamper = timestamper

    def __call__(self, signature: bytes) -> bytes:
        if self.timestamper is None:
            return signature
        try:
            return add_timestamp(signature, self.timestamper)
        except TimestampUnavailable as error:
            log.warning("sealing without a timestamp, to be added later: %s", error)
            self.timestamper = None
            return signature


@dataclass(frozen=True)
class SignedSeal:
    """The bytes a seal adds to the media: its manifest and the two signatures (R14)."""

    manifest: bytes
    manifest_signature: bytes
    signature: bytes


def sign_manifest_and_media(
    *,
    manifest: dict[str, Any],
    media_sha256: str,
    media_bytes: int,
    signer: Signer,
    timestamper: TimeStamper | None = None,
    revocation: RevocationEvidence | None = None,
) -> SignedSeal:
    """Check the manifest against the capture, sign it and sign the media's known digest (the
    media is not read). With ``timestamper`` both signatures get an RFC 3161 token when the
    TSA answers; when it does not they go without (``timestamp_queue`` adds them later). The
    ``revocation`` evidence fetched before signing goes into both (CAdES-LT; when the CA did
    not answer, ``revocation_queue`` adds it later)."""
    _check(manifest, {"sha256": media_sha256, "bytes": media_bytes}, None)
    data = canonical_bytes(manifest)
    stamp = _StampWhileUp(timestamper)
    evidence = revocation or RevocationEvidence("not_declared", "")
    manifest_signature = embed(stamp(signer.sign_digest(hashlib.sha256(data).digest())), evidence)
    signature = embed(stamp(signer.sign_digest(bytes.fromhex(media_sha256))), evidence)
    return SignedSeal(data, manifest_signature, signature)


def seal_recording(
    *,
    result_like: Any,
    manifest: dict[str, Any],
    signer: Signer,
    out_dir: Path | str,
    journal_path: Path | str | None = None,
    timestamper: TimeStamper | None = None,
) -> SealedFiles:
    """Seal the recording ``result_like`` (a ``CaptureResult`` or a dict of its fields) in
    ``out_dir`` under the name ``manifest["file"]["name"]`` (R14).

    Idempotent: sealing again with the same manifest returns the files already there; with a
    different manifest it refuses (``already_sealed``), because a sealed recording never changes
    (R19). With ``timestamper`` both signatures get an RFC 3161 token when the TSA answers.
    """
    source = Path(_field(result_like, "media_path"))
    out_dir = Path(out_dir)
    files = SealedFiles.beside(out_dir / manifest["file"]["name"])
    manifest_data = canonical_bytes(manifest)
    if files.signature.exists():
        if files.manifest.exists() and files.manifest.read_bytes() == manifest_data:
            return files
        raise Conflict(
            "already_sealed",
            _("%(media_name)s is sealed with another manifest."),
            params={"media_name": files.media.name},
        )
    _check(manifest, result_like, source if source.exists() else files.media)
    out_dir.mkdir(parents=True, exist_ok=True)
    if source.exists():
        _move_media(source, files.media)
    if journal_path is not None:
        write_atomic(files.journal, Path(journal_path).read_bytes())
    write_atomic(files.manifest, manifest_data)
    stamp = _StampWhileUp(timestamper)
    write_atomic(
        files.manifest_signature,
        stamp(signer.sign_digest(hashlib.sha256(manifest_data).digest())),
    )
    # Last: the media signature is the seal itself.
    write_atomic(files.signature, stamp(sign_file(signer, files.media, manifest["file"]["sha256"])))
    return files
