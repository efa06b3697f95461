"""Stop → sealed and stored, for 1-hour and 6-hour audio+video hearings (R14).

Run: ``.venv/bin/python -m bench.seal [--hours 1 6] [--runs 3]``.

A 60-second 720p25 H.264 + Opus MPEG-TS chunk is made once with ffmpeg and repeated into a
spool file of the hearing's length, hashed and journaled as the capture engine does while
recording (so the running digest is known at stop, as it is in production). Then the real
sealing path runs — manifest, CMS signatures from the known digest, the file moved into the
sealed layout and adopted into the blob store, the database updated — and is timed. The raw
tool it competes with is what sealing would cost if it had to read the file: ``openssl dgst
-sha256`` over the same file.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

CHUNK_SECONDS = 60
PIECE = 1 << 20  # journal piece size for the synthetic spool


def make_chunk(path: Path) -> None:
    """One minute of 720p25 A/V at about 1.5 Mb/s, as the recorder writes it."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            str(CHUNK_SECONDS),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "1500k",
            "-g",
            "50",
            "-c:a",
            "libopus",
            "-b:a",
            "48k",
            "-f",
            "mpegts",
            str(path),
        ],
        check=True,
        timeout=600,
    )


def make_spool(chunk: Path, spool: Path, hours: float) -> dict:
    """Write the spool file and its journal, hashing as it goes (the engine's running hash)."""
    spool.mkdir(parents=True, exist_ok=True)
    data = chunk.read_bytes()
    copies = int(hours * 3600 / CHUNK_SECONDS)
    whole, chain, offset, index = hashlib.sha256(), "0" * 64, 0, 0
    media = spool / "recording.ts"
    with media.open("wb") as out, (spool / "journal.jsonl").open("w") as journal:
        for _ in range(copies):
            out.write(data)
            whole.update(data)
            for start in range(0, len(data), PIECE):
                piece = data[start : start + PIECE]
                digest = hashlib.sha256(piece).hexdigest()
                chain = hashlib.sha256((chain + digest).encode()).hexdigest()
                journal.write(
                    json.dumps(
                        {
                            "type": "piece",
                            "index": index,
                            "offset": offset,
                            "length": len(piece),
                            "sha256": digest,
                            "chain": chain,
                        }
                    )
                    + "\n"
                )
                offset += len(piece)
                index += 1
    return {
        "media_path": str(media),
        "sha256": whole.hexdigest(),
        "bytes": offset,
        "duration_s": copies * CHUNK_SECONDS,
        "chain_head": chain,
        "pieces": index,
    }


def setup_django(home: Path) -> None:
    os.environ["TASPA_HOME"] = str(home)
    os.environ["TASPA_TRUST_ANCHORS"] = str(home / "trust-anchors.pem")
    os.environ["DJANGO_SETTINGS_MODULE"] = "taspa.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def stopped_recording(world, result: dict):
    """A hearing whose capture just stopped, as ``stop_recording`` leaves it before sealing."""
    from django.utils import timezone

    from taspa.recorder.models import Recording

    hearing = world.hearing_factory()
    now = timezone.now()
    # the hearing stands where a stop leaves it: stopped, not yet sealed
    type(hearing).objects.filter(pk=hearing.pk).update(state="stopped")
    return Recording.objects.create(
        hearing=hearing,
        state=Recording.State.STOPPED,
        spool_dir=str(Path(result["media_path"]).parent),
        started_at=now - timezone.timedelta(seconds=result["duration_s"]),
        stopped_at=now,
        container="mpegts",
        sha256=result["sha256"],
        bytes=result["bytes"],
        duration_s=result["duration_s"],
        chain_head=result["chain_head"],
        pieces=result["pieces"],
        media_path=result["media_path"],
    )


class World:
    def __init__(self, home: Path) -> None:
        from django.utils import timezone

        from taspa.courts import actions
        from taspa.courts.actions import RoleGrant
        from taspa.sealing import democa
        from taspa.sealing.actions import register_signing_key

        self.timezone = timezone
        self.actions = actions
        self.admin = actions.bootstrap_system_admin(username="root", full_name="Root", password="x")
        self.court = actions.create_court(
            actor=self.admin, code="bench", name="Bench court", level="district", region="Almaty"
        )
        grant = lambda role: [RoleGrant(role=role, court=self.court)]  # noqa: E731
        self.secretary = actions.create_user(
            actor=self.admin, username="sec", full_name="Secretary", roles=grant("secretary")
        )
        self.judge = actions.create_user(
            actor=self.admin, username="judge", full_name="Judge", roles=grant("judge")
        )
        self.room = actions.create_courtroom(
            actor=self.admin,
            court=self.court,
            name="Room",
            sources=[{"kind": "audio", "input": "x"}],
        )
        ca = democa.create_ca("Bench CA")
        (home / "trust-anchors.pem").write_bytes(ca.pem)
        register_signing_key(
            actor=self.admin,
            user=self.secretary,
            password="pw",
            p12=democa.issue_p12(ca, common_name="Secretary", password="pw", key_type="rsa2048"),
        )
        self.count = 0

    def hearing_factory(self):
        self.count += 1
        case = self.actions.register_case(
            actor=self.admin, court=self.court, number=f"B-{self.count}", kind="criminal"
        )
        return self.actions.schedule_hearing(
            actor=self.admin,
            case=case,
            courtroom=self.room,
            instance="first",
            closed=False,
            judge=self.judge,
            secretary=self.secretary,
            scheduled_at=self.timezone.now(),
        )


def openssl_seconds(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["openssl", "dgst", "-sha256", str(path)], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[1.0, 6.0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taspa-bench-seal-"))
    try:
        setup_django(work / "home")
        from taspa.recorder.actions import seal_stopped

        world = World(work / "home")
        chunk = work / "chunk.ts"
        make_chunk(chunk)
        print(
            "| hearing | media size | stop → sealed and stored, s (median) "
            "| `openssl dgst -sha256` of the file, s | ratio |"
        )
        print("| --- | ---: | ---: | ---: | ---: |")
        for hours in args.hours:
            template = work / f"template-{hours}h"
            result = make_spool(chunk, template, hours)
            seal_times, openssl_times = [], []
            for run in range(args.runs):
                spool = work / f"spool-{hours}-{run}"
                shutil.copytree(template, spool, copy_function=os.link)  # same bytes, new names
                result["media_path"] = str(spool / "recording.ts")
                recording = stopped_recording(world, result)
                openssl_times.append(openssl_seconds(spool / "recording.ts"))
                started = time.perf_counter()
                sealed = seal_stopped(recording)
                seal_times.append(time.perf_counter() - started)
                assert sealed.state == "sealed", sealed.state
            seal, raw = statistics.median(seal_times), statistics.median(openssl_times)
            print(
                f"| {hours:g} h 720p A/V | {result['bytes'] / 2**30:.2f} GiB | {seal:.3f} | "
                f"{raw:.2f} | {raw / seal:.0f}× faster |"
            )
            shutil.rmtree(template)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
