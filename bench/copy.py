"""Time to produce an audio-only copy package (R31) of a long A/V recording, next to the bare
``ffmpeg -vn -c:a copy`` of the same file, in the same run.

Run: ``.venv/bin/python -m bench.copy [--minutes 120] [--runs 5]``. Builds a synthetic MPEG-TS
hearing as the recorder writes it (H.264 320x240 10 fps + two mono Opus microphones at 48 kb/s:
a one-minute clip looped by stream copy to the length asked), seals it with a demo key, puts
the sealed files into a file blob store, then times, interleaved run by run: (a) bare ffmpeg
reading the blob's own file, writing every audio stream into Ogg, the copy's container, and
into Matroska, the cut copy's (and plain ``-vn -c:a copy``, which takes one); (b) the real
path, ``copies.package_sealed`` (what ``issue_copy`` calls) from the blob store: the media
streamed into ffmpeg's stdin as it is hashed, then the stream copy into the zip, hashed on
the way, CMS signatures, BagIt manifests, page; (c) the same real path as it was before (the
media first copied, hashed and fsync'd into a checked temporary file, ``streamed=False``);
(d) ``build_copy_package`` alone from the sealed file (no blob store read, no digest check of
the original); (e) the real path with two closed portions cut out (checked temporary file,
then the packets around each portion listed by ffprobe, its interior counted; Matroska, which
stamps every packet, into a file and then into the zip). Medians of the runs; each measured in
a process of its own, whose
peak RSS (the largest process: Python or its ffmpeg; GNU time's for bare ffmpeg) is printed
beside it, and its CPU seconds (user + system, the tools it runs included), as bare ffmpeg's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taspa.settings")
django.setup()  # before Taspa's modules: some read settings as they are imported

from types import SimpleNamespace  # noqa: E402

from django.conf import settings  # noqa: E402

from taspa.access.copies import package_sealed  # noqa: E402
from taspa.access.package import build_copy_package  # noqa: E402
from taspa.access.policy import Media  # noqa: E402
from taspa.sealing import democa  # noqa: E402
from taspa.sealing.hashing import sha256_file  # noqa: E402
from taspa.sealing.manifest import build_manifest, certificate_summary  # noqa: E402
from taspa.sealing.seal import seal_recording  # noqa: E402
from taspa.sealing.signing import Pkcs12Signer  # noqa: E402
from taspa.storage.filestore import FileBlobStore  # noqa: E402


def _ffmpeg(*args: str) -> list[str]:
    return ["ffmpeg", "-nostdin", "-v", "error", "-y", *args]


def make_recording(directory: Path, minutes: int) -> Path:
    clip = directory / "clip.ts"
    subprocess.run(_ffmpeg(
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=60",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=60:sample_rate=48000",
        "-f", "lavfi", "-i", "anoisesrc=a=0.1:d=60:r=48000",
        "-map", "0:v", "-map", "1:a", "-map", "2:a",
        "-c:v", "libx264", "-preset", "ultrafast", "-g", "50",
        "-c:a", "libopus", "-b:a", "48k", "-ac", "1",
        "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", str(clip),
    ), check=True)  # fmt: skip
    media = directory / "hearing.ts"
    subprocess.run(
        _ffmpeg("-stream_loop", str(minutes - 1), "-i", str(clip), "-map", "0", "-c", "copy",
                "-f", "mpegts", "-muxdelay", "0", "-muxpreload", "0", str(media)),
        check=True,
    )  # fmt: skip
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


def stored(sealed, root: Path) -> tuple[FileBlobStore, SimpleNamespace]:
    """The sealed files in a file blob store, and a recording row (duck-typed) naming them."""
    store = FileBlobStore(root)
    digests = {
        kind: store.put_file(getattr(sealed, kind)).digest
        for kind in ("media", "signature", "manifest", "manifest_signature")
    }
    recording = SimpleNamespace(
        pk=1, file_name=sealed.media.name, sha256=digests["media"],
        bytes=sealed.media.stat().st_size, signature_digest=digests["signature"],
        manifest_digest=digests["manifest"],
        manifest_signature_digest=digests["manifest_signature"], journal_digest="",
        signer_subject="bench", fixity_ok=True,
    )  # fmt: skip
    return store, recording


def measured(work: Callable[[], object] | list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system, its ffmpeg included) and peak RSS (MiB) of
    ``work``: a command (GNU time reports the tool's own figures, not those of Python's fork),
    or a function run in a forked process of its own (wait4 reports the child and its
    waited-for children: the largest RSS of Python and its ffmpeg, their CPU together)."""
    started = time.perf_counter()
    if isinstance(work, list):
        with tempfile.NamedTemporaryFile("r") as figures:
            command = ["/usr/bin/time", "-f", "%U %S %M", "-o", figures.name, *work]
            subprocess.run(command, check=True)
            seconds = time.perf_counter() - started
            user, system, peak = figures.read().split()[-3:]
        return seconds, float(user) + float(system), int(peak) / 1024
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            work()
        except BaseException as error:  # report it; never return into the parent's code
            print(f"failed: {error!r}", file=sys.stderr)
            code = 1
        os._exit(code)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"a measured run failed (status {status})")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=120)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    load = os.getloadavg()
    ca = democa.create_ca("Bench CA")
    signer = Pkcs12Signer(democa.issue_p12(ca, common_name="Bench", password="pw"), "pw")
    with tempfile.TemporaryDirectory(prefix="taspa-bench-copy-") as temp:
        root = Path(temp)
        sealed = seal(make_recording(root, args.minutes), root / "sealed", signer)
        size = sealed.media.stat().st_size
        store, recording = stored(sealed, root / "blobs")
        settings.TASPA_HOME = root / "home"  # the checked temporary files go under it
        blob = store.path(recording.sha256)
        sealed.media.unlink()  # read from the store only
        half = args.minutes * 30.0  # two closed portions: 10 min and 5 min, mid-hearing
        closed = [(half - 900.0, half - 300.0), (half + 600.0, half + 900.0)]

        def bare(*options: str) -> list[str]:
            return _ffmpeg("-i", str(blob), *options, str(root / "bare.out"))

        def build(excluded) -> Callable[..., object]:
            return lambda sealed_files, streamed=None: build_copy_package(
                sealed=sealed_files, media=Media.AUDIO, signer=signer, name="bench-copy",
                issue={"petition": 0}, bag_info={}, out_dir=root / "copies",
                progress=lambda _: None, excluded=excluded, streamed=streamed,
            )  # fmt: skip

        def real(excluded, streamed: bool) -> Callable[[], object]:
            return lambda: package_sealed(
                recording, build(excluded), excluded=excluded, store=store, streamed=streamed
            )

        methods = {
            "all": bare("-map", "0:a", "-c:a", "copy", "-f", "ogg"),
            "vn": bare("-vn", "-c:a", "copy", "-f", "ogg"),
            "mka": bare("-map", "0:a", "-c:a", "copy", "-f", "matroska"),
            "real": real((), True),
            "before": real((), False),
            "package": _alone(build(()), sealed, blob, root / "alone"),
            "cut": real(closed, False),
        }
        runs: dict[str, list[tuple[float, float, float]]] = {name: [] for name in methods}
        subprocess.run(["cat", str(blob)], stdout=subprocess.DEVNULL, check=True)
        for _ in range(args.runs):  # interleaved: the machine's load falls on all alike
            for name, work in methods.items():
                runs[name].append(measured(work))
    med = {name: statistics.median(s for s, _, _ in found) for name, found in runs.items()}
    cpu = {name: statistics.median(c for _, c, _ in found) for name, found in runs.items()}
    rss = {name: max(r for _, _, r in found) for name, found in runs.items()}
    base = med["all"]

    def paired(name: str) -> float:  # each run's package next to that round's bare copy
        return statistics.median(
            t / b for (t, _, _), (b, _, _) in zip(runs[name], runs["all"], strict=True)
        )

    print(f"Recording: {args.minutes} min A/V MPEG-TS (H.264 + 2 Opus microphones), "
          f"{size / 2**20:.0f} MiB, in a file blob store; medians of {args.runs} interleaved "
          "runs. The ratio is to bare ffmpeg reading the blob's file and copying every "
          "microphone into the same container (Ogg): plain `-vn -c:a copy` picks one audio "
          "stream only, so it does half the work. Median of the per-run ratios (Taspa / bare, "
          f"same round): real path {paired('real'):.2f} (before, with the checked temporary "
          f"file: {paired('before'):.2f}), package alone {paired('package'):.2f}, real path "
          f"with the cut {paired('cut'):.2f}; load average at the "
          f"start {load[0]:.1f}, at the end {os.getloadavg()[0]:.1f} (2-core machine shared "
          "with other work: wall times vary; CPU seconds less).\n")  # fmt: skip
    print("| method | wall s (median) | runs | ratio | CPU s (median) | CPU ratio | peak RSS MiB |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    rows = [
        ("all", "`ffmpeg -map 0:a -c:a copy -f ogg` (bare: every microphone, the copy's "
                "container)"),
        ("vn", "`ffmpeg -vn -c:a copy -f ogg` (bare: one microphone only)"),
        ("mka", "`ffmpeg -map 0:a -c:a copy -f matroska` (bare, the cut copy's container)"),
        ("real", "Taspa copy, real path (`package_sealed`, as `issue_copy`): the sealed media "
                 "streamed from the blob store into ffmpeg while hashed, stream copy into the "
                 "zip, signatures, BagIt, page"),
        ("before", "the same real path as before: the media first copied, hashed and "
                   "fsync'd into a checked temporary file, then ffmpeg from it"),
        ("package", "`build_copy_package` alone, ffmpeg reading the blob's file (no check of "
                    "the original: not a path Taspa takes)"),
        ("cut", "Taspa copy, real path, two closed portions cut out (checked temporary file; "
                "Matroska; packets listed around each portion, its interior counted)"),
    ]  # fmt: skip
    for name, label in rows:
        each = " / ".join(f"{s:.2f}" for s, _, _ in runs[name])
        print(f"| {label} | {med[name]:.2f} | {each} | {med[name] / base:.2f} | {cpu[name]:.2f} | "
              f"{cpu[name] / cpu['all']:.2f} | {rss[name]:.0f} |")  # fmt: skip


def _alone(build: Callable[..., object], sealed, blob: Path, into: Path) -> Callable[[], object]:
    """``build_copy_package`` from files: a link to the blob's own file beside copies of the
    sealed small files."""
    into.mkdir()
    files = type(sealed).beside(into / sealed.media.name)
    files.media.symlink_to(blob)
    for kind in ("signature", "manifest", "manifest_signature"):
        getattr(files, kind).write_bytes(getattr(sealed, kind).read_bytes())
    return lambda: build(files)


if __name__ == "__main__":
    main(sys.argv[1:])
