"""SHA-256 throughput of Taspa's seal/verify path against ``openssl dgst -sha256`` (R14).

Run: ``.venv/bin/python -m bench.hashing [--size-mib 1024] [--runs 3] [--path FILE]``.
Hashes the same file (page-cached after a warm-up read) with each method, ``--runs`` times, and
prints a markdown table of median wall time and throughput, with the ratio to OpenSSL.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from taspa.sealing.hashing import BUFFER_SIZE, Piece, sha256_file, sha256_file_with_pieces
from taspa.sealing.tools import run_tool

MIB = 1024 * 1024


@dataclass(frozen=True)
class Result:
    method: str
    seconds: float
    digest: str


def make_file(path: Path, size_mib: int) -> None:
    block = hashlib.shake_256(b"taspa").digest(MIB)
    with open(path, "wb") as stream:
        for _ in range(size_mib):
            stream.write(block)


def openssl_sha256(path: Path) -> str:
    run = run_tool(["openssl", "dgst", "-sha256", "-r", str(path)], timeout=600)
    if not run.ok:
        raise RuntimeError(run.stderr)
    return run.stdout.split()[0]


def pieces_of(path: Path, length: int) -> list[Piece]:
    """1-second pieces of a ~1 Mbit/s A/V stream (~128 KiB), as the journal has them."""
    size = path.stat().st_size
    return [
        Piece(i, offset, min(length, size - offset), "", "")
        for i, offset in enumerate(range(0, size, length))
    ]


def timed(method: str, function: Callable[[], str], runs: int) -> Result:
    times, digest = [], ""
    for _ in range(runs):
        started = time.perf_counter()
        digest = function()
        times.append(time.perf_counter() - started)
    return Result(method, statistics.median(times), digest)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--path", type=Path, help="hash this file instead of a generated one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="taspa-bench-") as temp:
        path = args.path or Path(temp) / "media.ts"
        if args.path is None:
            make_file(path, args.size_mib)
        sha256_file(path)  # warm the page cache: compare hashing, not the disk
        pieces = pieces_of(path, 128 * 1024)
        results = [
            timed("`openssl dgst -sha256`", lambda: openssl_sha256(path), args.runs),
            timed(
                f"taspa `sha256_file` ({BUFFER_SIZE // MIB} MiB readinto)",
                lambda: sha256_file(path).sha256,
                args.runs,
            ),
            timed(
                "taspa `sha256_file_with_pieces` (verify with journal, 128 KiB pieces)",
                lambda: sha256_file_with_pieces(path, pieces).file.sha256,
                args.runs,
            ),
        ]
        size = path.stat().st_size
    if len({r.digest for r in results}) != 1:
        raise SystemExit(f"digests differ: {results}")
    baseline = results[0].seconds
    cpu = _cpu_name()
    print(f"SHA-256 of {size / MIB:.0f} MiB, median of {args.runs} runs, {cpu}\n")
    print("| method | median s | MiB/s | ratio to openssl |")
    print("| --- | ---: | ---: | ---: |")
    for result in results:
        rate = size / MIB / result.seconds
        print(
            f"| {result.method} | {result.seconds:.3f} | {rate:,.0f} | "
            f"{baseline / result.seconds:.2f} |"
        )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                flags = Path("/proc/cpuinfo").read_text()
                return f"{name}{' (SHA-NI)' if ' sha_ni' in flags else ''}, {os.cpu_count()} CPUs"
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
