"""Time to produce an audio-only copy package (R31) of a long A/V recording, next to the bare
``ffmpeg -vn -c:a copy`` of the same file.

Run: ``.venv/bin/python -m bench.copy [--minutes 120]``. Builds a synthetic MPEG-TS hearing
(H.264 320x240 10 fps + MP2 audio: a short clip looped by stream copy to the length asked),
seals it with a demo key, then times (a) bare ffmpeg and (b) ``build_copy_package`` (stream
copy + SHA-256 + CMS signatures + BagIt + zip), and prints a markdown table with the ratio.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from taspa.access.package import build_copy_package
from taspa.access.policy import Media
from taspa.sealing import democa
from taspa.sealing.hashing import sha256_file
from taspa.sealing.manifest import build_manifest, certificate_summary
from taspa.sealing.seal import seal_recording
from taspa.sealing.signing import Pkcs12Signer


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


def make_recording(directory: Path, minutes: int) -> Path:
    clip = directory / "clip.ts"
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=60",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=60",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "mp2", "-f", "mpegts", str(clip),
    )  # fmt: skip
    media = directory / "hearing.ts"
    _ffmpeg("-stream_loop", str(minutes - 1), "-i", str(clip), "-c", "copy", str(media))
    return media


def seal(media: Path, out: Path, signer: Pkcs12Signer):
    digest = sha256_file(media)
    result = {"media_path": str(media), "sha256": digest.sha256, "bytes": digest.bytes,
              "duration_s": 0.0, "chain_head": None, "pieces": None,
              "started_at": datetime.now(UTC), "container": "mpegts"}  # fmt: skip
    manifest = build_manifest(
        file_name="bench_h1.ts",
        result=result,
        hearing={"id": 1, "case_number": "bench", "case_kind": "civil"},
        secretary={"name": "bench", "certificate": certificate_summary(signer.certificate)},
    )
    return seal_recording(result_like=result, manifest=manifest, signer=signer, out_dir=out)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=120)
    args = parser.parse_args(argv)
    ca = democa.create_ca("Bench CA")
    signer = Pkcs12Signer(democa.issue_p12(ca, common_name="Bench", password="pw"), "pw")
    with tempfile.TemporaryDirectory(prefix="taspa-bench-copy-") as temp:
        root = Path(temp)
        sealed = seal(make_recording(root, args.minutes), root / "sealed", signer)
        size = sealed.media.stat().st_size
        bare = timed(lambda: _ffmpeg("-i", str(sealed.media), "-vn", "-c:a", "copy",
                                     "-f", "mpegts", str(root / "bare.ts")))  # fmt: skip
        package = timed(
            lambda: build_copy_package(
                sealed=sealed, media=Media.AUDIO, signer=signer, name="bench-copy",
                issue={"petition": 0}, bag_info={}, out_dir=root / "copies",
                progress=lambda _: None,
            )
        )  # fmt: skip
    print(f"Recording: {args.minutes} min A/V MPEG-TS, {size / 2**20:.0f} MiB\n")
    print("| method | wall s | ratio |\n| --- | ---: | ---: |")
    print(f"| `ffmpeg -vn -c:a copy` (bare) | {bare:.2f} | 1.00 |")
    print(f"| Taspa audio copy package (stream copy + sign + BagIt + zip) | {package:.2f} | "
          f"{package / bare:.2f} |")  # fmt: skip


if __name__ == "__main__":
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taspa.settings")
    django.setup()
    main(sys.argv[1:])
