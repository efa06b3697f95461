"""Run every benchmark and write ``docs/benchmarks.md``.

Run: ``.venv/bin/python -m bench [--only NAME ...]``. Each benchmark is its own module, runnable
alone (``python -m bench.hashing``), printing a markdown table that puts Taspa's figure next to
the raw tool it competes with, run in the same invocation on the same data. This runner adds a
description of the machine and collects the tables.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# name → (title, module arguments)
BENCHMARKS = {
    "recorder": ("Recorder CPU per courtroom and courtrooms per machine", []),
    "hashing": ("Seal/verify hashing vs `openssl dgst -sha256`", []),
    "seal": ("Stop → sealed and stored, 1-hour and 6-hour A/V hearings", []),
    "storage": ("Blob store vs `openssl dgst` + `cp`, and vs plain boto3 on SeaweedFS", []),
    "copy": ("Audio-only copy package vs `ffmpeg -vn -c:a copy`", []),
    "replication": ("Replication court → centre on loopback vs `rsync` to an rsync daemon", []),
    "scale": ("Hearing-list API and retention sweep with 1M and 10M recordings in PostgreSQL", []),
    "evidence": ("Evidence records (RFC 4998): build for 10,000 recordings, verify one", []),
    "search": ("Search across recordings with 1M sealed recordings in PostgreSQL", []),
}


def machine() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor(),
    )
    memory = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    ffmpeg = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    return [
        f"- CPU: {model}{' (SHA-NI)' if ' sha_ni' in cpuinfo else ''}, {os.cpu_count()} cores",
        f"- memory: {int(memory) / 2**20:.1f} GiB; OS: {platform.platform()}",
        f"- Python {platform.python_version()}; {ffmpeg.splitlines()[0] if ffmpeg else 'ffmpeg ?'}",
        f"- run: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
    ]


def run(name: str, arguments: list[str]) -> tuple[str | None, float]:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", f"bench.{name}", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    table = "\n".join(line for line in result.stdout.splitlines() if line.startswith("|"))
    notes = "\n".join(
        line for line in result.stdout.splitlines() if line and not line.startswith("|")
    )
    if result.returncode != 0:  # the report keeps the section it had; the failure is shown
        print(f"bench.{name} FAILED (exit {result.returncode}):", file=sys.stderr)
        print(result.stderr[-2000:], file=sys.stderr)
        return None, time.perf_counter() - started
    body = table + (f"\n\n```\n{notes}\n```" if notes else "")
    return body, time.perf_counter() - started


def earlier_sections(path: Path) -> tuple[list[str], dict[str, str]]:
    """The header lines and each benchmark's section of a report written before."""
    if not path.is_file():
        return [], {}
    header, *parts = path.read_text(encoding="utf-8").split("\n## ")
    titles = {title: name for name, (title, _) in BENCHMARKS.items()}
    sections = {}
    for part in parts:
        title, _, body = part.partition("\n")
        if title in titles:
            sections[titles[title]] = f"## {title}\n{body}".rstrip("\n")
    return header.rstrip("\n").splitlines(), sections


RERUN = "- re-run later: "


def rerun_header(earlier: list[str], now: dict[str, str]) -> list[str]:
    """The report's header with one ``re-run later`` line per benchmark, its latest time: the
    earlier lines' times (``bench.NAME (YYYY-MM-DD HH:MM UTC)``), updated with ``now``'s."""
    latest: dict[str, str] = {}
    for line in earlier:
        if line.startswith(RERUN):
            for name, when in re.findall(r"bench\.(\w+) \(([^)]*)\)", line):
                latest[name] = max(latest.get(name, ""), when)
    latest.update(now)
    header = [line for line in earlier if not line.startswith(RERUN) and line != SHARED]
    while header and not header[-1]:
        header.pop()
    order = [*BENCHMARKS, *sorted(set(latest) - set(BENCHMARKS))]
    return header + [f"{RERUN}bench.{name} ({latest[name]})" for name in order if name in latest]


def write_report(out: Path, fresh: dict[str, str], only: list[str] | None) -> None:
    """Write the report: the sections just run, and — for ``--only`` — every other section as
    the file has it *now* (re-read just before writing: other people may have regenerated
    their own sections meanwhile), written to a temporary file and renamed over the old one."""
    header = ["# Taspa benchmarks", "", "Written by `.venv/bin/python -m bench`.", "", *machine()]
    kept: dict[str, str] = {}
    if only:  # re-run some: the others stay as the report had them, with its machine lines
        earlier, kept = earlier_sections(out)
        if earlier:
            when = machine()[-1].removeprefix("- run: ")
            header = rerun_header(earlier, {name: when for name in fresh})
    header = [line for line in header if line != SHARED]
    while header and not header[-1]:
        header.pop()
    header += ["", SHARED]
    sections = [fresh.get(name) or kept.get(name) for name in BENCHMARKS]
    text = "\n".join(header) + "\n\n" + "\n\n".join(s for s in sections if s) + "\n"
    partial = out.with_name(f".{out.name}.{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, out)


SHARED = (
    "Measured on a shared machine (other engineers' tests running at the same time): the "
    "absolute figures move from run to run; what counts is each ratio, Taspa against the raw "
    "tool in the same invocation, runs interleaved, medians of at least 3. Peak RSS (VmHWM of "
    "the process doing the work) is given beside each figure."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    fresh: dict[str, str] = {}
    failed = []
    for name in args.only or BENCHMARKS:
        title, arguments = BENCHMARKS[name]
        print(f"running bench.{name} …", file=sys.stderr, flush=True)
        body, seconds = run(name, arguments)
        if body is None:
            failed.append(name)
            continue
        fresh[name] = "\n".join(
            [f"## {title}", "", f"`python -m bench.{name}` ({seconds:.0f} s)", "", body]
        )
        print(body)
    if fresh:
        write_report(args.out, fresh, list(fresh) if args.only or failed else None)
        print(f"wrote {args.out}", file=sys.stderr)
    if failed:
        sys.exit(f"failed (their sections were left as they were): {', '.join(failed)}")


if __name__ == "__main__":
    main()
