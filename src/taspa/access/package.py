"""The copy package (R31): a BagIt bag (RFC 8493), zipped, that proves itself.

Layout of the zip (one top folder, the bag)::

    <name>/bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt
    <name>/data/copy/<media>                   the copy's media
    <name>/data/copy/<media>.p7s               CMS detached signature over it
    <name>/data/copy/<stem>.manifest.json      what the copy is: a ``taspa-recording/1``
                                               manifest plus a ``copy`` section (petition,
                                               applicant, who issued it, when, the source)
    <name>/data/copy/<stem>.manifest.json.p7s  its signature
    <name>/data/original/...                   the sealed original's signature, manifest and
                                               manifest signature, as sealed (R14)
    <name>/data/marks.json                     the speaker marks (R12)

A criminal-case copy is the original's bytes under the original's name, so the original's own
signature verifies it. An audio-only copy is a new file made by stream copy (``-c copy``: the
audio packets are the original's bytes); the copy manifest names the original's SHA-256, and
the original's signed manifest is in the bag, so the chain back to the sealed original holds.
"""

from __future__ import annotations

import copy as copying
import hashlib
import json
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bagit

from taspa.access.policy import Media, audio_only_command
from taspa.sealing.hashing import sha256_file
from taspa.sealing.layout import SealedFiles
from taspa.sealing.manifest import canonical_bytes, certificate_summary
from taspa.sealing.signing import Signer
from taspa.sealing.tools import run_tool
from taspa.sealing.verify import (
    Check,
    UnreadableInput,
    detached_signature_checks,
    resolve_trust_anchors,
    verify_recording,
)

log = logging.getLogger("taspa.access")
Progress = Callable[[str], None]
FFMPEG_TIMEOUT_S = 6 * 3600


@dataclass(frozen=True)
class BuiltPackage:
    zip_path: Path
    sha256: str
    bytes: int
    media_sha256: str
    media_name: str


def _copy_media(source: Path, media: Media, target_dir: Path) -> tuple[Path, list[str]]:
    """The copy's media file and how it was made (provenance)."""
    if media == Media.AUDIO_VIDEO:
        target = target_dir / source.name
        try:  # the checked copy from the store is private to this build: link, don't copy
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        return target, ["copy", "bytes", source.name]
    target = target_dir / f"{source.with_suffix('').name}.audio.ts"
    command = audio_only_command(str(source), str(target))
    done = run_tool(command, timeout=FFMPEG_TIMEOUT_S)
    if not done.ok:
        raise RuntimeError(f"ffmpeg could not extract the audio: {done.stderr.strip()[:300]}")
    # Provenance names the files, never where they lay on the server.
    recorded = [source.name if part == str(source) else part for part in command[1:-1]]
    return target, ["ffmpeg", *recorded, target.name]


def _copy_manifest(
    original: Mapping[str, Any], media_file: Path, signer: Signer, issue: Mapping[str, Any]
) -> dict[str, Any]:
    manifest = copying.deepcopy(dict(original))
    digest = sha256_file(media_file)
    manifest["file"] = {
        **manifest["file"],
        "name": media_file.name,
        "sha256": digest.sha256,
        "bytes": digest.bytes,
    }
    manifest["segments"] = {"algorithm": None, "chain_head": None, "pieces": None}
    manifest["secretary"] = {
        **manifest.get("secretary", {}),
        "certificate": certificate_summary(signer.certificate),
    }
    manifest["copy"] = dict(issue)
    return manifest


def _write_signed(signer: Signer, media_file: Path, manifest: dict[str, Any]) -> None:
    files = SealedFiles.beside(media_file)
    data = canonical_bytes(manifest)
    files.manifest.write_bytes(data)
    files.manifest_signature.write_bytes(signer.sign_digest(hashlib.sha256(data).digest()))
    files.signature.write_bytes(signer.sign_digest(bytes.fromhex(manifest["file"]["sha256"])))


def _payload(
    work: Path, sealed: SealedFiles, media: Media, signer: Signer, issue: dict[str, Any]
) -> tuple[Path, str]:
    (work / "copy").mkdir(parents=True)
    (work / "original").mkdir()
    for name in ("signature", "manifest", "manifest_signature"):
        shutil.copyfile(getattr(sealed, name), work / "original" / getattr(sealed, name).name)
    original = json.loads(sealed.manifest.read_bytes())
    media_file, method = _copy_media(sealed.media, media, work / "copy")
    source = {
        "file": sealed.media.name,
        "sha256": original["file"]["sha256"],
        "manifest_sha256": sha256_file(sealed.manifest).sha256,
    }
    issue = {**issue, "media": media.value, "method": method, "source": source}
    manifest = _copy_manifest(original, media_file, signer, issue)
    _write_signed(signer, media_file, manifest)
    marks = json.dumps(original.get("marks", []), ensure_ascii=False, indent=1)
    (work / "marks.json").write_text(marks, encoding="utf-8")
    return media_file, manifest["file"]["sha256"]


def _zip(bag_dir: Path, target: Path, progress: Progress) -> None:
    files = sorted(p for p in bag_dir.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in files) or 1
    done = 0
    # Media is compressed already: store, don't deflate (fast, and byte ranges stay simple).
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as out:
        for path in files:
            out.write(path, f"{bag_dir.name}/{path.relative_to(bag_dir).as_posix()}")
            done += path.stat().st_size
            progress(f"zip {done * 100 // total}% {path.name}")


def build_copy_package(
    *,
    sealed: SealedFiles,
    media: Media,
    signer: Signer,
    name: str,
    issue: dict[str, Any],
    bag_info: dict[str, str],
    out_dir: Path,
    progress: Progress = log.info,
) -> BuiltPackage:
    """Build the zipped bag ``out_dir/name.zip`` for one petition (R31); see the module doc."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as temp:
        work = Path(temp) / name
        progress(f"extracting {media.value} from {sealed.media.name}")
        media_file, media_sha = _payload(work, sealed, media, signer, issue)
        progress("bagging (SHA-256 fixity)")
        bagit.make_bag(str(work), bag_info=bag_info, checksums=["sha256"], processes=1)
        partial = out_dir / f".{name}.zip.part"
        _zip(work, partial, progress)
        target = out_dir / f"{name}.zip"
        os.replace(partial, target)
    digest = sha256_file(target)
    progress(f"done: {target.name}, {digest.bytes} bytes")
    return BuiltPackage(target, digest.sha256, digest.bytes, media_sha, media_file.name)


# ---------------------------------------------------------------------------------------------
# Verification (``taspa verify copy.zip``)


def _extract(path: Path, into: Path) -> Path:
    """Unzip safely (no absolute names, no ``..``) and return the bag folder."""
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                parts = Path(member).parts
                if member.startswith("/") or ".." in parts:
                    raise UnreadableInput(f"{path}: unsafe name in the zip: {member}")
            archive.extractall(into)
    except (zipfile.BadZipFile, OSError) as error:
        raise UnreadableInput(f"{path}: not a readable zip: {error}") from None
    tops = [p for p in into.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise UnreadableInput(f"{path}: expected one bag folder in the zip")
    return tops[0]


def _bag_check(bag_dir: Path) -> Check:
    try:
        bagit.Bag(str(bag_dir)).validate(processes=1)
    except bagit.BagError as error:
        return Check("bag_fixity", False, str(error)[:500])
    return Check("bag_fixity", True, "BagIt manifests and payload match (SHA-256)")


def _prefixed(prefix: str, checks: list[Check]) -> list[Check]:
    return [Check(f"{prefix}{c.name}", c.ok, c.detail) for c in checks]


def _original_checks(data: Path, copy_manifest: dict[str, Any], anchors: list) -> list[Check]:
    """The chain back to the sealed original: its manifest is authentic and names the source
    the copy was made from; a full copy is verified against the original's own signature."""
    source = copy_manifest.get("copy", {}).get("source", {})
    original = SealedFiles.beside(data / "original" / str(source.get("file", "missing")))
    copy_media = data / "copy" / copy_manifest["file"]["name"]
    if copy_media.name == original.media.name:
        return _prefixed(
            "original_",
            verify_recording(
                copy_media,
                signature_path=original.signature,
                manifest_path=original.manifest,
                manifest_signature_path=original.manifest_signature,
                trust_anchors=anchors,
            ),
        )
    return _source_checks(original, source, anchors)


def _source_checks(original: SealedFiles, source: dict[str, Any], anchors: list) -> list[Check]:
    if not original.manifest.is_file():
        return [Check("original_manifest", False, "the original's manifest is missing")]
    data = original.manifest.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    signature_checks = detached_signature_checks(
        ("original_manifest_signature", "original_certificate_chain"),
        original.manifest_signature,
        original.manifest,
        anchors,
    )
    named = json.loads(data).get("file", {}).get("sha256")
    same = named == source.get("sha256") and sha == source.get("manifest_sha256")
    detail = f"made from {source.get('file')} (sha256 {named})"
    return [
        *signature_checks,
        Check("copy_source", same, detail if same else "the copy names another original"),
    ]


def verify_copy_package(path: Path, *, trust_anchors: Any = None) -> list[Check]:
    """Every check of a copy package (zip or unpacked folder): BagIt fixity, the copy's own
    signatures, and the chain back to the sealed original."""
    anchors = resolve_trust_anchors(trust_anchors)
    with tempfile.TemporaryDirectory(prefix="taspa-verify-") as temp:
        bag_dir = path if path.is_dir() else _extract(path, Path(temp))
        data = bag_dir / "data"
        manifests = sorted((data / "copy").glob("*.manifest.json"))
        if not manifests:
            raise UnreadableInput(f"{path}: no copy manifest in data/copy/")
        checks = [_bag_check(bag_dir)]
        try:
            copy_manifest = json.loads(manifests[0].read_bytes())
            media = data / "copy" / copy_manifest["file"]["name"]
        except (ValueError, KeyError, TypeError) as error:
            return [*checks, Check("copy_manifest", False, f"unreadable: {error}")]
        checks += _prefixed("copy_", verify_recording(media, trust_anchors=anchors))
        checks += _original_checks(data, copy_manifest, anchors)
    return checks
