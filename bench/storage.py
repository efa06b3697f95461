"""Blob store throughput against the raw tools (docs/adr/0002-blob-store.md).

    .venv/bin/python -m bench.storage [--mib 256] [--runs 3]

Prints a markdown table: put and get of one file, median of ``--runs``, for
``FileBlobStore`` vs ``openssl dgst -sha256`` + ``cp``, and ``S3BlobStore`` on a local SeaweedFS
vs boto3's own ``upload_file`` / ``download_file``. The runs are interleaved (Taspa, tool, Taspa,
tool, …) so that load from other work on the machine falls on both alike; each figure has the
peak RSS of the process doing the work beside it (``peak_rss`` below).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from taspa.storage.filestore import FileBlobStore
from taspa.storage.s3store import S3BlobStore

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


@dataclass(frozen=True)
class Row:
    backend: str
    method: str
    put_s: float
    get_s: float
    rss_mib: float = 0.0  # peak RSS of the process doing the work (the larger of put and get)


_HWM = re.compile(r"VmHWM:\s+(\d+) kB")


def reset_peak_rss() -> None:
    """Start counting this process's peak RSS afresh (Linux >= 4.0: ``clear_refs`` 5)."""
    with open("/proc/self/clear_refs", "w") as out:
        out.write("5")


def peak_rss_mib(pid: int | str = "self") -> float:
    """VmHWM of a running process (this one by default), MiB."""
    match = _HWM.search(Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def run_tool(command: list[str]) -> float:
    """Run a command to its end; its peak RSS, MiB (GNU ``time -f %M``: the command's own, not
    the forked copy of this process it started from)."""
    with tempfile.NamedTemporaryFile("r") as report:
        subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%M", *command],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return int(report.read().split()[-1]) / 1024


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


Once = Callable[[int], tuple[float, float, float]]


def interleaved(runs: int, methods: list[Once]) -> list[tuple[float, float, float]]:
    """Medians (put s, get s, peak RSS MiB) of each method, the methods taking turns run by
    run, so load from elsewhere on the machine falls on all of them alike."""
    results: list[list[tuple[float, float, float]]] = [[] for _ in methods]
    for i in range(runs):
        for method, into in zip(methods, results, strict=True):
            into.append(method(i))
    return [
        (
            statistics.median(r[0] for r in rows),
            statistics.median(r[1] for r in rows),
            max(r[2] for r in rows),
        )
        for rows in results
    ]


def make_source(path: Path, mib: int) -> None:
    with open(path, "wb") as out:
        for _ in range(mib):
            out.write(os.urandom(MiB))


def copy_out(stream: Any, dest: Path) -> None:
    with stream, open(dest, "wb") as out:
        shutil.copyfileobj(stream, out, MiB)


def bench_file(source: Path, work: Path, runs: int) -> list[Row]:
    def store_once(i: int) -> tuple[float, float, float]:
        store = FileBlobStore(work / f"store-{i}")
        ref = None

        def put() -> None:
            nonlocal ref
            ref = store.put_file(source)

        reset_peak_rss()
        put_s = timed(put)
        assert ref is not None
        get_s = timed(lambda: copy_out(store.open(ref.digest), work / f"out-{i}"))
        rss = peak_rss_mib()
        (work / f"out-{i}").unlink()
        shutil.rmtree(work / f"store-{i}")  # 0444 files, writable directories
        return put_s, get_s, rss

    def tools_once(i: int, durable: bool = False) -> tuple[float, float, float]:
        stored, out = work / f"cp-{i}", work / f"cp-out-{i}"
        rss = 0.0

        def put() -> None:
            nonlocal rss
            rss = max(rss, run_tool(["openssl", "dgst", "-sha256", str(source)]))
            rss = max(rss, run_tool(["cp", str(source), str(stored)]))
            if durable:  # as the store does: the bytes are on disk before it answers
                rss = max(rss, run_tool(["sync", str(stored)]))

        put_s = timed(put)
        get_s = timed(lambda: run_tool(["cp", str(stored), str(out)]))
        stored.unlink()
        out.unlink()
        return put_s, get_s, rss

    taspa, tools, durable = interleaved(
        runs, [store_once, tools_once, lambda i: tools_once(i, durable=True)]
    )
    return [
        Row("file", "FileBlobStore put_file / open", *taspa),
        Row("file", "openssl dgst -sha256 + cp / cp", *tools),
        Row("file", "openssl dgst -sha256 + cp + sync / cp", *durable),
    ]


def bench_s3(source: Path, work: Path, runs: int) -> tuple[list[Row], float]:
    sys.path.insert(0, str(ROOT / "tests"))  # the SeaweedFS fixture the tests use
    import seaweed

    server = seaweed.SeaweedServer(work / "seaweedfs").start()
    client = server.client()
    plain = boto3.session.Session().client(  # boto3 defaults, as a user would have them
        "s3",
        endpoint_url=server.endpoint,
        aws_access_key_id=seaweed.ACCESS_KEY,
        aws_secret_access_key=seaweed.SECRET_KEY,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    try:

        def bucket() -> str:
            name = f"bench-{uuid.uuid4().hex[:12]}"
            client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
            # The first write to a new bucket grows its volume (~1 s); keep that out of timing.
            client.put_object(Bucket=name, Key="warm-up", Body=b"x")
            return name

        def store_once(i: int) -> tuple[float, float, float]:
            store = S3BlobStore(bucket(), client=client)
            ref = None

            def put() -> None:
                nonlocal ref
                ref = store.put_file(source)

            reset_peak_rss()
            put_s = timed(put)
            assert ref is not None
            get_s = timed(lambda: copy_out(store.open(ref.digest), work / "s3-out"))
            rss = peak_rss_mib()
            (work / "s3-out").unlink()
            return put_s, get_s, rss

        def boto_once(i: int) -> tuple[float, float, float]:
            name = bucket()
            reset_peak_rss()
            put_s = timed(lambda: plain.upload_file(str(source), name, "blob"))
            get_s = timed(lambda: plain.download_file(name, "blob", str(work / "boto-out")))
            rss = peak_rss_mib()
            (work / "boto-out").unlink()
            return put_s, get_s, rss

        taspa, boto = interleaved(runs, [store_once, boto_once])
        rows = [
            Row("s3 (SeaweedFS)", "S3BlobStore put_file / open", *taspa),
            Row("s3 (SeaweedFS)", "boto3 upload_file / download_file", *boto),
        ]
        return rows, server.started_in or 0.0
    finally:
        client.close()
        plain.close()
        server.stop()


def table(rows: list[Row], mib: int) -> str:
    lines = [
        f"| backend | method ({mib} MiB file, median) | put s | put MiB/s | get s | get MiB/s "
        "| peak RSS MiB | put ratio (raw tool's time / Taspa's) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        ratio = ""
        if r.method.startswith(("FileBlobStore", "S3BlobStore")):
            ratio = "1.00"
        else:
            taspa = next(t for t in rows if t.backend == r.backend and "BlobStore" in t.method)
            ratio = f"Taspa {r.put_s / taspa.put_s:.2f}×"
        lines.append(
            f"| {r.backend} | {r.method} | {r.put_s:.2f} | {mib / r.put_s:.0f} "
            f"| {r.get_s:.2f} | {mib / r.get_s:.0f} | {r.rss_mib:.0f} | {ratio} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="taspa-bench-") as tmp:
        work = Path(tmp)
        source = work / "source.bin"
        make_source(source, args.mib)
        rows = bench_file(source, work, args.runs)
        s3_rows, started_in = bench_s3(source, work, args.runs)
        print(table(rows + s3_rows, args.mib))
        print(
            f"\nSeaweedFS ready in {started_in:.1f} s; {os.cpu_count()} CPUs; runs={args.runs}, "
            "interleaved. Ratio: the raw tool's put time over Taspa's (above 1: Taspa is faster)."
            " Peak RSS: Taspa and boto3 in this process (VmHWM, reset before each run), the"
            " tools as their own processes (GNU time). Memory the process kept from an earlier"
            " run counts again (malloc keeps it): read RSS as an upper bound."
        )


if __name__ == "__main__":
    main()
