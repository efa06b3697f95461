"""Blob store throughput against the raw tools (docs/adr/0002-blob-store.md).

    .venv/bin/python -m bench.storage [--mib 256] [--runs 3]

Prints a markdown table: put and get of one file, median of ``--runs``, for
``FileBlobStore`` vs ``openssl dgst -sha256`` + ``cp``, and ``S3BlobStore`` on a local SeaweedFS
vs boto3's own ``upload_file`` / ``download_file``.
"""

from __future__ import annotations

import argparse
import os
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


def timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def median_run(runs: int, once: Callable[[int], tuple[float, float]]) -> tuple[float, float]:
    results = [once(i) for i in range(runs)]
    return statistics.median(r[0] for r in results), statistics.median(r[1] for r in results)


def make_source(path: Path, mib: int) -> None:
    with open(path, "wb") as out:
        for _ in range(mib):
            out.write(os.urandom(MiB))


def copy_out(stream: Any, dest: Path) -> None:
    with stream, open(dest, "wb") as out:
        shutil.copyfileobj(stream, out, MiB)


def bench_file(source: Path, work: Path, runs: int) -> list[Row]:
    def store_once(i: int) -> tuple[float, float]:
        store = FileBlobStore(work / f"store-{i}")
        ref = None

        def put() -> None:
            nonlocal ref
            ref = store.put_file(source)

        put_s = timed(put)
        assert ref is not None
        get_s = timed(lambda: copy_out(store.open(ref.digest), work / f"out-{i}"))
        (work / f"out-{i}").unlink()
        shutil.rmtree(work / f"store-{i}")  # 0444 files, writable directories
        return put_s, get_s

    def tools_once(i: int, durable: bool = False) -> tuple[float, float]:
        stored, out = work / f"cp-{i}", work / f"cp-out-{i}"

        def put() -> None:
            subprocess.run(
                ["openssl", "dgst", "-sha256", str(source)], check=True, capture_output=True
            )
            subprocess.run(["cp", str(source), str(stored)], check=True)
            if durable:  # as the store does: the bytes are on disk before it answers
                subprocess.run(["sync", str(stored)], check=True)

        put_s = timed(put)
        get_s = timed(lambda: subprocess.run(["cp", str(stored), str(out)], check=True))
        stored.unlink()
        out.unlink()
        return put_s, get_s

    return [
        Row("file", "FileBlobStore put_file / open", *median_run(runs, store_once)),
        Row("file", "openssl dgst -sha256 + cp / cp", *median_run(runs, tools_once)),
        Row(
            "file",
            "openssl dgst -sha256 + cp + sync / cp",
            *median_run(runs, lambda i: tools_once(i, durable=True)),
        ),
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

        def store_once(i: int) -> tuple[float, float]:
            store = S3BlobStore(bucket(), client=client)
            ref = None

            def put() -> None:
                nonlocal ref
                ref = store.put_file(source)

            put_s = timed(put)
            assert ref is not None
            get_s = timed(lambda: copy_out(store.open(ref.digest), work / "s3-out"))
            (work / "s3-out").unlink()
            return put_s, get_s

        def boto_once(i: int) -> tuple[float, float]:
            name = bucket()
            put_s = timed(lambda: plain.upload_file(str(source), name, "blob"))
            get_s = timed(lambda: plain.download_file(name, "blob", str(work / "boto-out")))
            (work / "boto-out").unlink()
            return put_s, get_s

        rows = [
            Row("s3 (SeaweedFS)", "S3BlobStore put_file / open", *median_run(runs, store_once)),
            Row(
                "s3 (SeaweedFS)", "boto3 upload_file / download_file", *median_run(runs, boto_once)
            ),
        ]
        return rows, server.started_in or 0.0
    finally:
        client.close()
        plain.close()
        server.stop()


def table(rows: list[Row], mib: int) -> str:
    lines = [
        f"| backend | method ({mib} MiB file, median) | put s | put MiB/s | get s | get MiB/s |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.backend} | {r.method} | {r.put_s:.2f} | {mib / r.put_s:.0f} "
            f"| {r.get_s:.2f} | {mib / r.get_s:.0f} |"
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
        print(f"\nSeaweedFS ready in {started_in:.1f} s; {os.cpu_count()} CPUs; runs={args.runs}.")


if __name__ == "__main__":
    main()
