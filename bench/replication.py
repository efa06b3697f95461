"""Replication throughput on loopback (R23) next to ``rsync`` of the same files.

    .venv/bin/python -m bench.replication [--mib 256] [--runs 3]

A court (this process: its own TASPA_HOME and SQLite) seals one recording of ``--mib`` MiB and
replicates it to a central ``taspa serve`` (another process, TASPA_ROLE=central, own home) over
127.0.0.1: Content-Range chunks with per-chunk digests, then the centre's full verification
(hash + CMS signature + chain) before acknowledging. ``rsync`` copies the same sealed files to an
``rsync --daemon`` on 127.0.0.1 (it checks a whole-file checksum, nothing else). Median of
``--runs``; each run replicates to a fresh centre.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

MiB = 1 << 20
PASSWORD = "pin-1234"


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


def start_central(home: Path, anchors: Path) -> tuple[subprocess.Popen, str, str]:
    env = _env(home, TASPA_ROLE="central", TASPA_TRUST_ANCHORS=str(anchors))
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
    now = timezone.now()
    # the hearing stands where a stop leaves it: stopped, not yet sealed
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    recording = Recording.objects.create(
        hearing=hearing, state="stopped", spool_dir=str(spool), started_at=now - timedelta(hours=1),
        stopped_at=now, container="mpegts", sha256=digest.hexdigest(), bytes=size,
        duration_s=3600.0, media_path=str(media),
    )  # fmt: skip
    return seal_stopped(recording), anchors


def replicate_once(anchors: Path, work: Path) -> float:
    from taspa.replication.client import HttpCentral
    from taspa.replication.court import replicate
    from taspa.replication.models import Outgoing

    Outgoing.objects.update(pending=True, acked_version=0, state="pending")
    process, url, token = start_central(work / f"central-{time.monotonic_ns()}", anchors)
    try:
        began = time.perf_counter()
        result = replicate(central=HttpCentral(url, token))
        elapsed = time.perf_counter() - began
        assert result.sent == 1 and not result.failed, result.errors
        return elapsed
    finally:
        process.terminate()
        process.wait()


def rsync_once(files: list[Path], work: Path) -> float:
    target = work / f"rsync-{time.monotonic_ns()}"
    target.mkdir()
    conf = work / "rsyncd.conf"
    conf.write_text(
        f"use chroot = no\nuid = {os.getuid()}\ngid = {os.getgid()}\n"
        f"[bench]\npath = {target}\nread only = no\n"
    )
    port = _port()
    daemon = subprocess.Popen(
        ["rsync", "--daemon", "--no-detach", f"--port={port}", f"--config={conf}",
         "--address=127.0.0.1"],
    )  # fmt: skip
    time.sleep(0.5)
    try:
        began = time.perf_counter()
        subprocess.run(
            ["rsync", "-a", *map(str, files), f"rsync://127.0.0.1:{port}/bench/"], check=True
        )
        return time.perf_counter() - began
    finally:
        daemon.terminate()
        daemon.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taspa-bench-replication-"))
    court_home = work / "court"
    os.environ.update(_env(court_home, TASPA_ROLE="court", TASPA_COURT="bench-court"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "taspa.settings"
    import django

    django.setup()
    spool = work / "spool"
    spool.mkdir()
    try:
        recording, anchors = seal_court_recording(args.mib * MiB, spool)
        from taspa.sealing.reading import write_sealed

        sealed = write_sealed(recording, work / "sealed")  # rsync's source: the same files
        files = [sealed.media, sealed.signature, sealed.manifest, sealed.manifest_signature]
        taspa = statistics.median(replicate_once(anchors, work) for _ in range(args.runs))
        rsync = statistics.median(rsync_once(files, work) for _ in range(args.runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    size = args.mib
    print(f"| {size} MiB recording, loopback | seconds | MiB/s |")
    print("| --- | ---: | ---: |")
    print(
        f"| `taspa replicate` (chunks, digests, centre's verify) | {taspa:.2f} "
        f"| {size / taspa:.0f} |"
    )
    print(f"| `rsync -a` to `rsync --daemon` | {rsync:.2f} | {size / rsync:.0f} |")
    print(f"| ratio Taspa / rsync (time) | {taspa / rsync:.2f} | |")


if __name__ == "__main__":
    main()
