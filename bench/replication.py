"""Replication throughput on loopback (R23) next to ``rsync`` of the same files.

    .venv/bin/python -m bench.replication [--mib 256] [--runs 3]

A court (this process: its own TASPA_HOME and SQLite) seals one recording of ``--mib`` MiB, with
its segment journal as the recorder writes it (a chained piece per ~0.9 s of an hour's media,
R19: every real recording has one, so the centre's check runs the segment chain), and
replicates it to a central ``taspa serve`` (another process, TASPA_ROLE=central, own home) over
127.0.0.1: each file streamed in one Content-Range request (Repr-Digest: the centre hashes the
bytes as it writes them, fsyncs; the journal first, so the media's pieces are hashed in the
same pass), then the centre's verification (hash + CMS signature + chain + segment chain)
before acknowledging. ``rsync`` copies the same sealed files to an
``rsync --daemon`` on 127.0.0.1 (it checks a whole-file checksum, nothing else). Then the same
recording to a centre whose store is S3 (a local SeaweedFS): parts PUT straight to S3 at URLs
the centre presigns, next to boto3's ``upload_file`` of the media file to the same SeaweedFS.
Median of ``--runs``, Taspa and the raw tool taking turns run by run; each run replicates to a
fresh centre. Peak RSS beside each figure: the court (this process, VmHWM reset before each
run), the centre (its ``taspa serve`` process), rsync's client and daemon (GNU ``time``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bench.storage import peak_rss_mib, reset_peak_rss, run_tool

ROOT = Path(__file__).resolve().parent.parent

MiB = 1 << 20
PASSWORD = "pin-1234"
DURATION_S = 3600.0  # the recording's length: the media's bitrate is --mib over an hour
PIECE_SECONDS = 0.9  # the recorder's journal piece (recorder/engine.py)


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    return env | {"TASPA_HOME": str(home), "TASPA_FAST_PASSWORD_HASHER": "true"} | extra


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SEED = """
import json
from taspa.api.actions import issue_token
from taspa.courts import actions
from taspa.replication.central import enrol_court
admin = actions.bootstrap_system_admin(username="centre", full_name="Centre", password="pw")
court = actions.create_court(
    actor=admin, code="bench-court", name="B", level="district", region="R"
)
print(json.dumps({"token": enrol_court(actor=None, court=court)}))
"""


def start_central(
    home: Path, anchors: Path, extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str, str]:
    env = _env(home, TASPA_ROLE="central", TASPA_TRUST_ANCHORS=str(anchors), **(extra or {}))
    run = [sys.executable, "-m", "taspa"]
    subprocess.run([*run, "migrate", "-v", "0"], env=env, check=True)
    out = subprocess.run([*run, "shell", "-c", SEED], env=env, check=True, capture_output=True)
    token = json.loads(out.stdout.decode().strip().splitlines()[-1])["token"]
    port = _port()
    process = subprocess.Popen(
        [*run, "serve", "--no-migrate", "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{url}/api/v1/openapi.json", timeout=1).close()  # noqa: S310
            break
        except OSError:
            time.sleep(0.1)
    return process, url, token


def seal_court_recording(size: int, spool: Path):
    """In this process: a court database with one sealed recording of ``size`` bytes."""
    from django.core.management import call_command
    from django.utils import timezone

    from taspa.courts import actions
    from taspa.courts.actions import RoleGrant
    from taspa.recorder.actions import seal_stopped
    from taspa.recorder.journal import JOURNAL_NAME
    from taspa.recorder.models import Recording
    from taspa.sealing import democa
    from taspa.sealing.actions import register_signing_key

    call_command("migrate", verbosity=0)
    admin = actions.bootstrap_system_admin(username="root", full_name="Root", password="pw")
    court = actions.create_court(
        actor=admin, code="bench-court", name="B", level="district", region="R"
    )
    room = actions.create_courtroom(actor=admin, court=court, name="1", sources=[])
    people = {
        role: actions.create_user(
            actor=admin,
            username=role,
            full_name=role,
            roles=[RoleGrant(role, court)],
            password="pw",
        )
        for role in ("judge", "secretary")
    }
    ca = democa.create_ca("Bench CA")
    anchors = spool / "anchors.pem"
    anchors.write_bytes(ca.pem)
    p12 = democa.issue_p12(ca, common_name="Secretary", password=PASSWORD)
    register_signing_key(actor=admin, user=people["secretary"], p12=p12, password=PASSWORD)
    case = actions.register_case(actor=admin, court=court, number="1-1", kind="criminal")
    hearing = actions.schedule_hearing(
        actor=admin, case=case, courtroom=room, instance="first", closed=False,
        judge=people["judge"], secretary=people["secretary"], scheduled_at=timezone.now(),
        participants=[], circumstances={},
    )  # fmt: skip
    media = spool / "capture.ts"
    digest = hashlib.sha256()
    with open(media, "wb") as out:
        for index in range(size // MiB):
            block = hashlib.shake_256(index.to_bytes(4, "big")).digest(MiB)
            digest.update(block)
            out.write(block)
    head, pieces = write_journal(media, spool / JOURNAL_NAME, piece_bytes(size))
    now = timezone.now()
    # the hearing stands where a stop leaves it: stopped, not yet sealed
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    recording = Recording.objects.create(
        hearing=hearing, state="stopped", spool_dir=str(spool), started_at=now - timedelta(hours=1),
        stopped_at=now, container="mpegts", sha256=digest.hexdigest(), bytes=size,
        duration_s=DURATION_S, media_path=str(media), chain_head=head, pieces=pieces,
    )  # fmt: skip
    return seal_stopped(recording), anchors


def piece_bytes(size: int) -> int:
    """Bytes of media per journal piece: ``PIECE_SECONDS`` of a ``DURATION_S`` recording."""
    return max(1, round(size * PIECE_SECONDS / DURATION_S))


def write_journal(media: Path, journal: Path, piece: int) -> tuple[str, int]:
    """The recorder's journal of ``media`` (``recorder/journal.py``): one chained piece line
    per ``piece`` bytes, as the capture engine appends them. Its chain head and piece count."""
    from taspa.recorder.journal import CHAIN_GENESIS, PieceRecord, chain_link, piece_line

    head, index, offset = CHAIN_GENESIS, 0, 0
    with open(media, "rb") as source, open(journal, "w", encoding="utf-8") as out:
        while chunk := source.read(piece):
            sha = hashlib.sha256(chunk).hexdigest()
            head = chain_link(head, sha)
            line = piece_line(PieceRecord(index, offset, len(chunk), sha, head))
            out.write(json.dumps(line, separators=(",", ":"), sort_keys=True) + "\n")
            index, offset = index + 1, offset + len(chunk)
    return head, index


@dataclass
class Measure:
    seconds: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)  # court / client, MiB
    other_rss: list[float] = field(default_factory=list)  # centre / daemon, MiB
    transfer: list[float] = field(default_factory=list)  # S3: first to last part, s

    def median(self) -> float:
        return statistics.median(self.seconds)


def replicate_once(anchors: Path, work: Path, into: Measure, extra: dict | None = None) -> None:
    from taspa.replication.client import HttpCentral
    from taspa.replication.court import Progress, replicate
    from taspa.replication.models import Outgoing

    Outgoing.objects.update(pending=True, acked_version=0, state="pending")
    process, url, token = start_central(work / f"central-{time.monotonic_ns()}", anchors, extra)
    steps: list[tuple[float, Progress]] = []
    try:
        reset_peak_rss()
        began = time.perf_counter()
        result = replicate(
            central=HttpCentral(url, token),
            progress=lambda step: steps.append((time.perf_counter(), step)),
        )
        into.seconds.append(time.perf_counter() - began)
        into.rss.append(peak_rss_mib())
        into.other_rss.append(peak_rss_mib(process.pid))
        assert result.sent == 1 and not result.failed, result.errors
        media = [at for at, step in steps if step.kind == "media"]
        into.transfer.append(media[-1] - began)
    finally:
        process.terminate()
        process.wait()


def rsync_once(files: list[Path], work: Path, into: Measure, verify: bool = False) -> None:
    """``rsync -a`` to a daemon; ``verify``: then what the centre adds, done by the raw tools
    (``sha256sum`` of what arrived, ``sync`` of it), inside the same clock."""
    target = work / f"rsync-{time.monotonic_ns()}"
    target.mkdir()
    conf = work / "rsyncd.conf"
    conf.write_text(
        f"use chroot = no\nuid = {os.getuid()}\ngid = {os.getgid()}\n"
        f"[bench]\npath = {target}\nread only = no\n"
    )
    port = _port()
    report = work / "rsyncd.rss"
    daemon = subprocess.Popen(
        ["/usr/bin/time", "-o", str(report), "-f", "%M",
         "rsync", "--daemon", "--no-detach", f"--port={port}", f"--config={conf}",
         "--address=127.0.0.1"],
    )  # fmt: skip
    time.sleep(0.5)
    try:
        began = time.perf_counter()
        rss = run_tool(["rsync", "-a", *map(str, files), f"rsync://127.0.0.1:{port}/bench/"])
        if verify:
            arrived = [str(target / f.name) for f in files]
            subprocess.run(["sha256sum", *arrived], check=True, capture_output=True)
            subprocess.run(["sync", *arrived], check=True)
        into.seconds.append(time.perf_counter() - began)
        into.rss.append(rss)
    finally:  # GNU time does not pass a SIGTERM on: end rsync itself, time then reports
        children = Path(f"/proc/{daemon.pid}/task/{daemon.pid}/children")
        for pid in children.read_text().split() if children.exists() else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGTERM)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        shutil.rmtree(target, ignore_errors=True)
    with contextlib.suppress(ValueError, IndexError):
        into.other_rss.append(int(report.read_text().split()[-1]) / 1024)


def boto3_once(server, media: Path, into: Measure) -> None:
    import boto3
    from botocore.config import Config

    plain = boto3.session.Session().client(  # boto3 defaults, as a user would have them
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=server.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=server.env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    name = _bucket(server)
    reset_peak_rss()
    began = time.perf_counter()
    plain.upload_file(str(media), name, "blob")
    into.seconds.append(time.perf_counter() - began)
    into.rss.append(peak_rss_mib())
    plain.close()


def _bucket(server) -> str:
    client = server.client()
    name = f"bench-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    client.put_object(Bucket=name, Key="warm-up", Body=b"x")  # the volume grows: not timed
    client.close()
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-s3", action="store_true", help="skip the S3-centre rows")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taspa-bench-replication-"))
    court_home = work / "court"
    os.environ.update(_env(court_home, TASPA_ROLE="court", TASPA_COURT="bench-court"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "taspa.settings"
    import django

    django.setup()
    spool = work / "spool"
    spool.mkdir()
    taspa, rsync, taspa_s3, boto = Measure(), Measure(), Measure(), Measure()
    rsync_verified = Measure()
    server = None
    try:
        recording, anchors = seal_court_recording(args.mib * MiB, spool)
        from taspa.sealing.reading import write_sealed

        sealed = write_sealed(recording, work / "sealed")  # rsync's source: the same files
        files = [
            sealed.journal,
            sealed.media,
            sealed.signature,
            sealed.manifest,
            sealed.manifest_signature,
        ]
        for _ in range(args.runs):
            replicate_once(anchors, work, taspa)
            rsync_once(files, work, rsync)
            rsync_once(files, work, rsync_verified, verify=True)
        if not args.no_s3:
            sys.path.insert(0, str(ROOT / "tests"))  # the SeaweedFS the tests use
            import seaweed

            server = seaweed.SeaweedServer(work / "seaweedfs").start()
            for _ in range(args.runs):
                extra = server.env | {"TASPA_STORAGE": f"s3://{_bucket(server)}"}
                replicate_once(anchors, work, taspa_s3, extra)
                boto3_once(server, sealed.media, boto)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    size = args.mib
    print(
        f"| {size} MiB recording, loopback (median of {args.runs}) | seconds | MiB/s "
        "| peak RSS MiB (court / centre) | ratio (Taspa's time / raw tool's) |"
    )
    print("| --- | ---: | ---: | ---: | ---: |")

    def row(label: str, m: Measure, ratio: str, seconds: float | None = None) -> None:
        seconds = m.median() if seconds is None else seconds
        rss = f"{max(m.rss):.0f}" + (f" / {max(m.other_rss):.0f}" if m.other_rss else "")
        print(f"| {label} | {seconds:.2f} | {size / seconds:.0f} | {rss} | {ratio} |")

    row(
        "`taspa replicate`, one streamed Content-Range request per file (one read each side; "
        "the centre hashes the file and its journal pieces as it writes, fsyncs, verifies "
        "CMS/chain/manifest/segment chain before acknowledging)",
        taspa,
        f"{taspa.median() / rsync.median():.2f}",
    )
    row("`rsync -a` to `rsync --daemon` (client / daemon)", rsync, "1.00")
    row(
        "for context: `rsync -a`, then `sha256sum` + `sync` of what arrived (the centre's hash "
        "and fsync by the raw tools; Taspa's time / this)",
        rsync_verified,
        f"{taspa.median() / rsync_verified.median():.2f}",
    )
    if not args.no_s3:
        transfer = statistics.median(taspa_s3.transfer)
        row(
            "`taspa replicate` to an S3 centre, parts only (8 MiB, presign + PUT, 4 at once)",
            taspa_s3,
            f"{transfer / boto.median():.2f}",
            seconds=transfer,
        )
        row(
            "`taspa replicate` to an S3 centre, end to end (+ complete, the media hashed as S3 "
            "returns it, small files read back, verify, server-side copy to the digest key)",
            taspa_s3,
            f"{taspa_s3.median() / boto.median():.2f}",
        )
        row("boto3 `upload_file` of the media file, same SeaweedFS", boto, "1.00")
    print(
        "\nRatios are of times in the same run (runs interleaved): below 1 Taspa is faster. "
        "Absolute figures come from a shared 2-core machine with other work running."
    )


if __name__ == "__main__":
    main()
