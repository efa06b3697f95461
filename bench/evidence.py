"""Evidence records (RFC 4998, issue 15): the day's build for 10,000 recordings, and the
verification of one record, each beside a raw baseline on the same data.

Run: ``.venv/bin/python -m bench.evidence [--recordings 10000] [--media-mib 256] [--runs 3]``.

Build: ``evidence.actions.build_day`` over N sealed recordings in SQLite (rows made in bulk,
four data-object digests each) — the hash tree, one TSA request (pyHanko's in-process test
TSA, so no network is timed), N DER records put into the file blob store, N rows and one audit
event. Its baselines: the hash tree alone, and the raw minimum, a plain ``hashlib`` loop
folding the same 4N digests into a root (no paths, no encoding, no storage).

Verify: ``evidence.verify.verify_evidence`` of one record over a recording's four files (the
media ``--media-mib``), which hashes every file and checks the timestamp chain; baseline:
``hashlib.sha256`` over the same four files (what any check of the files must read).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

MIB = 1 << 20


def setup_django(home: Path) -> None:
    os.environ["TASPA_HOME"] = str(home)
    os.environ["TASPA_STORAGE"] = f"file://{home / 'blobs'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "taspa.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_recordings(count: int) -> None:
    """``count`` sealed recordings of one court, sealed now, made in bulk."""
    from django.utils import timezone

    from taspa.courts import actions
    from taspa.courts.actions import RoleGrant
    from taspa.courts.models import Case, Hearing
    from taspa.recorder.models import Recording

    admin = actions.bootstrap_system_admin(username="root", full_name="Root", password="x")
    court = actions.create_court(
        actor=admin, code="bench", name="Bench court", level="district", region="Almaty"
    )
    judge = actions.create_user(
        actor=admin, username="judge", full_name="Judge", roles=[RoleGrant("judge", court)]
    )
    room = actions.create_courtroom(
        actor=admin, court=court, name="Room", sources=[{"kind": "audio", "input": "x"}]
    )
    now = timezone.now()
    cases = Case.objects.bulk_create(
        Case(court=court, number=f"B-{i}", kind="criminal") for i in range(count)
    )
    hearings = Hearing.objects.bulk_create(
        Hearing(
            case=case,
            courtroom=room,
            instance="first",
            judge=judge,
            secretary=judge,
            scheduled_at=now,
            recording_required="required",
            recording_rule="R3",
            recording_explanation_ru="-",
            recording_explanation_en="-",
            state=Hearing.State.SEALED,
        )
        for case in cases
    )

    def digest(i: int, kind: str) -> str:
        return hashlib.sha256(f"{kind}-{i}".encode()).hexdigest()

    Recording.objects.bulk_create(
        Recording(
            hearing=hearing,
            court_id=hearing.case.court_id,
            state=Recording.State.SEALED,
            spool_dir="",
            started_at=now - timedelta(hours=1),
            stopped_at=now,
            file_name=f"bench_B-{i}.ts",
            sha256=digest(i, "media"),
            signature_digest=digest(i, "signature"),
            manifest_digest=digest(i, "manifest"),
            manifest_signature_digest=digest(i, "manifest-signature"),
            sealed_at=now,
        )
        for i, hearing in enumerate(hearings)
    )


def raw_root(leaves: list[list[bytes]]) -> bytes:
    """The raw minimum: hashlib folding the groups and then the levels into one root."""
    level = sorted(hashlib.sha256(b"".join(sorted(group))).digest() for group in leaves)
    while len(level) > 1:
        pairs = [
            hashlib.sha256(min(a, b) + max(a, b)).digest()
            for a, b in zip(level[::2], level[1::2], strict=False)
        ]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def median_time(function, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_build(count: int, runs: int) -> list[str]:
    from django.utils import timezone

    from taspa.evidence import ers
    from taspa.evidence.actions import build_day
    from taspa.evidence.models import EvidenceRecord, EvidenceTree
    from taspa.recorder.models import Recording
    from taspa.sealing import democa

    make_recordings(count)
    tsa = democa.issue_tsa(democa.create_ca("Bench CA")).timestamper()
    started = time.perf_counter()
    run = build_day(actor=None, day=timezone.localdate(), timestamper=tsa)
    build_s = time.perf_counter() - started
    assert EvidenceRecord.objects.count() == count, run
    size = sum(
        len(ers.encode(ers.decode(_blob(row.digest)))) for row in EvidenceRecord.objects.all()[:10]
    )
    tree = EvidenceTree.objects.get()
    leaves = [
        [bytes.fromhex(d) for d in row]
        for row in Recording.objects.values_list(
            "sha256", "signature_digest", "manifest_digest", "manifest_signature_digest"
        )
    ]
    tree_s = median_time(lambda: ers.build_tree("sha256", leaves), runs)
    raw_s = median_time(lambda: raw_root(leaves), runs)
    return [
        f"| build, {count:,} recordings (tree, TSA, {count:,} DER records stored, rows, audit) "
        f"| {build_s:.2f} s | {build_s / count * 1e3:.3f} ms | {tree.recordings:,} covered, "
        f"~{size // 10} B per record |",
        f"| hash tree + every reduced path alone | {tree_s:.3f} s | "
        f"{tree_s / count * 1e3:.4f} ms | `ers.build_tree` |",
        f"| raw: hashlib root over the same {4 * count:,} digests | {raw_s:.3f} s | "
        f"{raw_s / count * 1e3:.4f} ms | baseline (no paths, no storage) |",
    ]


def _blob(digest: str) -> bytes:
    from taspa.storage.store import get_store

    with get_store().open(digest) as stream:
        return stream.read()


def bench_verify(home: Path, media_mib: int, runs: int) -> list[str]:
    import asyncio

    from taspa.evidence import ers
    from taspa.evidence.verify import verify_evidence
    from taspa.sealing import democa

    ca = democa.create_ca("Bench verify CA")
    stamper = democa.issue_tsa(ca).timestamper()
    files = {}
    block = hashlib.shake_256(b"taspa-evidence").digest(MIB)
    media = home / "media.ts"
    with media.open("wb") as stream:
        for _ in range(media_mib):
            stream.write(block)
    files["media"] = media
    for name in ("signature", "manifest", "manifest_signature"):
        files[name] = home / name
        files[name].write_bytes(hashlib.shake_256(name.encode()).digest(4096))

    def sha256(path: Path) -> bytes:
        h = hashlib.sha256()
        with path.open("rb") as stream:
            while chunk := stream.read(MIB):
                h.update(chunk)
        return h.digest()

    group = [sha256(path) for path in files.values()]
    others = [[hashlib.sha256(i.to_bytes(4, "big")).digest()] for i in range(9_999)]
    root, paths = ers.build_tree("sha256", [group, *others])
    token = asyncio.run(stamper.async_timestamp(root, "sha256")).dump()
    stamp = ers.ArchiveStamp("sha256", tuple(map(tuple, paths[0])), token)
    record = ers.encode(ers.Record(((stamp,),)))
    anchors = [ca.certificate]
    checks = verify_evidence(record, files, trust_anchors=anchors)
    assert all(c.ok for c in checks), checks
    small = {"media": b"x"}
    root2, paths2 = ers.build_tree("sha256", [[hashlib.sha256(b"x").digest()], *others])
    token2 = asyncio.run(stamper.async_timestamp(root2, "sha256")).dump()
    record2 = ers.encode(
        ers.Record(((ers.ArchiveStamp("sha256", tuple(map(tuple, paths2[0])), token2),),))
    )
    verify_s = median_time(lambda: verify_evidence(record, files, trust_anchors=anchors), runs)
    record_s = median_time(lambda: verify_evidence(record2, small, trust_anchors=anchors), runs)
    raw_s = median_time(lambda: [sha256(path) for path in files.values()], runs)
    return [
        f"| verify one record, {media_mib} MiB media + 3 files (in a 10,000-leaf tree) "
        f"| {verify_s:.3f} s | | hashes every file, checks the timestamp chain |",
        f"| the record's own checks (1-byte data object) | {record_s * 1e3:.1f} ms | | "
        f"{len(record2)} B record: decode, path, token, TSA chain |",
        f"| raw: hashlib.sha256 over the same four files | {raw_s:.3f} s | | baseline |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=10_000)
    parser.add_argument("--media-mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taspa-bench-evidence-") as directory:
        home = Path(directory)
        setup_django(home)
        rows = bench_build(args.recordings, args.runs)
        rows += bench_verify(home, args.media_mib, args.runs)
    print("| what | wall time | per recording | notes |")
    print("| --- | --- | --- | --- |")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
