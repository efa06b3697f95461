"""The electronic archive (R27): a separate blob store holding one BagIt package (RFC 8493,
serialised as an uncompressed tar, §4.2) per recording, checked on arrival.

``TASPA_ARCHIVE_STORAGE`` (``file://PATH`` or ``s3://bucket[/prefix]``; default
``file://TASPA_HOME/archive``). A package holds the sealed files (media, its CMS signature, the
manifest and its signature, the journal when there is one) and ``metadata.json``; its
``manifest-sha256.txt`` lets any archivist's tool check it without Taspa.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import bagit
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from taspa.recorder.models import Recording
from taspa.recorder.selectors import recording_detail
from taspa.sealing.reading import write_sealed
from taspa.sealing.verify import Check, UnreadableInput, verify_recording
from taspa.storage.store import BlobStore, StorageError, store_from_url

logging.getLogger("bagit").setLevel(logging.WARNING)


def archive_url() -> str:
    default = f"file://{Path(settings.TASPA_HOME) / 'archive'}"
    return getattr(settings, "TASPA_ARCHIVE_STORAGE", None) or os.environ.get(
        "TASPA_ARCHIVE_STORAGE", default
    )


def archive_store() -> BlobStore:
    return store_from_url(archive_url())


@dataclass(frozen=True)
class Package:
    """A serialised bag on local disk, with its SHA-256."""

    path: Path
    sha256: str
    bytes: int


def _tar(bag: Path, target: Path) -> None:
    """A reproducible tar: sorted names, no owners, zero times."""

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(bag.rglob("*")):
            tar.add(
                path, arcname=f"{bag.name}/{path.relative_to(bag)}", recursive=False, filter=clean
            )


def build_package(recording: Recording, staging: Path) -> Package:
    """The recording's bag, tarred in ``staging``. The sealed files come from the blob store,
    each hashed as it is copied: bytes that fail their digest refuse the package
    (``SealedBytesRefused``, with an incident) and nothing goes to the archive (R19, R27)."""
    bag = staging / Path(recording.file_name).stem
    bag.mkdir(parents=True)
    write_sealed(recording, bag)
    detail = recording_detail(recording)
    (bag / "metadata.json").write_text(
        json.dumps(detail, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1, sort_keys=True)
    )
    court = recording.hearing.case.court
    bagit.make_bag(
        str(bag),
        {
            "Source-Organization": court.name,
            "External-Identifier": recording.file_name,
            "External-Description": f"Court {court.code}, case {recording.hearing.case.number}",
            "Bagging-Date": recording.sealed_at.date().isoformat() if recording.sealed_at else "",
        },
        checksums=["sha256"],
    )
    target = staging / f"{bag.name}.bag.tar"
    _tar(bag, target)
    return Package(target, _sha256(target), target.stat().st_size)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def verify_archived(store: BlobStore, digest: str, media_name: str) -> list[Check]:
    """Read the package back from the archive: the store's fixity, the bag's manifest, and
    the sealed recording's hash and signatures (R27: verified there before deletion)."""
    fixity = store.verify(digest)
    checks = [
        Check(
            "archive_fixity",
            fixity.ok,
            f"{fixity.status.value} at {fixity.location} {fixity.detail}",
        )
    ]
    if not fixity.ok:
        return checks
    with tempfile.TemporaryDirectory(prefix="taspa-archive-check-") as temp:
        with store.open(digest) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            tar.extractall(temp, filter="data")
        bags = [p for p in Path(temp).iterdir() if p.is_dir()]
        try:
            bagit.Bag(str(bags[0])).validate()
            checks.append(Check("bag_manifest", True, "BagIt payload matches manifest-sha256"))
        except (bagit.BagError, IndexError) as error:
            return [*checks, Check("bag_manifest", False, str(error))]
        try:
            checks += verify_recording(
                bags[0] / "data" / media_name, trust_anchors=settings.TASPA_TRUST_ANCHORS
            )
        except UnreadableInput as error:
            checks.append(Check("readable", False, str(error)))
    return checks


__all__ = [
    "Package",
    "StorageError",
    "archive_store",
    "archive_url",
    "build_package",
    "verify_archived",
]
