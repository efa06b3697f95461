"""Run the tests behind each of Taspa's promises and write ``docs/reliability.md``.

Run: ``.venv/bin/python -m bench.reliability [--out docs/reliability.md]`` (a few minutes).

Each promise names the tests that prove it. The command runs exactly those tests with pytest
(SQLite, as the README's test command does first), reads the JUnit report, and writes one row
per promise: the promise, the figures the tests measured in this run (``record_property`` in
the test), the tests and their outcome. A promise whose tests did not all pass is printed as
NOT KEPT and the command exits 1, so the document can never claim what the run did not show.
The speed and capacity figures live in ``docs/benchmarks.md`` (``python -m bench``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from bench.__main__ import ROOT, machine


@dataclass(frozen=True)
class Promise:
    requirement: str
    promise: str
    tests: tuple[str, ...]  # pytest node ids or test files, relative to the repository


PROMISES = (
    Promise(
        "R6, R19",
        "`kill -9` of the recorder's ffmpeg at 50 random moments of one hearing: recording again "
        "within 2 s, at most 1 s of audio lost per kill, every break a `capture_gap` incident "
        "and a gap in the signed record (never silent filler)",
        (
            "tests/faults/test_recorder_faults.py::"
            "test_r19_fifty_kills_of_ffmpeg_each_lose_under_1_s_and_each_is_an_incident",
            "tests/recorder/test_engine_faults.py::"
            "test_r19_kill_9_of_ffmpeg_restarts_within_2_s_and_loses_under_1_s",
        ),
    ),
    Promise(
        "R19",
        "The recorder's own process killed mid-hearing: the spool and its journal are recovered "
        "and verify up to the last fsync (about a second)",
        (
            "tests/recorder/test_engine_faults.py::test_r19_recover_after_the_recorder_process_is_killed",
        ),
    ),
    Promise(
        "R19",
        "A stalled, then dropped source: an alarm and a gap, not a hung hearing",
        (
            "tests/recorder/test_engine_faults.py::test_r19_a_stalled_then_dropped_feed_is_an_alarm_and_a_gap",
        ),
    ),
    Promise(
        "R19",
        "The spool's disk fills mid-hearing (a 4 MB tmpfs): alarm within 5 s, everything "
        "written before it intact and verifiable",
        (
            "tests/faults/test_recorder_faults.py::"
            "test_r19_spool_disk_full_alarms_within_5_s_and_keeps_all_before_it",
            "tests/recorder/test_engine_faults.py::"
            "test_r19_disk_full_alarms_within_5_s_and_keeps_what_was_written",
        ),
    ),
    Promise(
        "R6, R19",
        "The court server unreachable for the whole hearing, or lost mid-hearing: the courtroom "
        "agent records and spools, uploads when the server returns; the sealed file is "
        "byte-identical to the spool, marks and pauses kept",
        ("tests/faults/test_agent_outage.py",),
    ),
    Promise(
        "R14",
        "A crash at each step of sealing leaves the recording unsealed or sealed, never half; "
        "the resume job finishes it exactly once",
        ("tests/sealing/test_crash.py",),
    ),
    Promise(
        "R14, R19",
        "One byte flipped in a stored recording, a changed mark or pause in the manifest, a "
        "truncated file, an edited journal, a foreign or expired signature: `taspa verify` says "
        "FAIL and names the check",
        ("tests/sealing/test_verify.py",),
    ),
    Promise(
        "R19",
        "The rolling fixity job re-hashes every stored recording and raises an incident for a "
        "flipped byte",
        ("tests/sealing/test_fixity.py",),
    ),
    Promise(
        "R19, R20",
        "An audit row altered, deleted, inserted, reordered or re-chained without the key is "
        "named by `taspa audit verify`; the database refuses UPDATE and DELETE",
        ("tests/audit/test_audit_chain.py",),
    ),
    Promise(
        "R23",
        "Replication cut at 20 random points resumes from the offset the centre verified, "
        "never from zero; one replica, identical bytes; a tampered replica is refused",
        (
            "tests/replication/test_r23_two_servers.py::"
            "test_r23_broken_transfers_resume_from_the_verified_offset_20_times",
            "tests/replication/test_r23_two_servers.py::"
            "test_r23_tampered_replica_is_refused_and_alarmed",
        ),
    ),
    Promise(
        "R23",
        "Replication to an S3 centre (SeaweedFS) cut mid-part resumes at the next part; sent "
        "twice stores once; a part or object that does not match its signed digest is refused",
        ("tests/replication/test_r23_s3_multipart.py",),
    ),
    Promise(
        "R24, R27",
        "Transfer to the electronic archive: exactly once across a crash between copy and "
        "delete; a failed archive write deletes nothing; legal hold blocks the move",
        (
            "tests/retention/test_retention.py::"
            "test_r27_crash_between_archive_and_delete_completes_exactly_once",
            "tests/retention/test_retention.py::test_r27_archive_write_failure_deletes_nothing",
            "tests/retention/test_retention.py::test_r24_legal_hold_blocks_the_move_until_lifted",
        ),
    ),
    Promise(
        "R28–R31",
        "Who may review or copy what: audio only in civil, administrative and admin-offence "
        "cases, audio and video in criminal ones, nothing for closed hearings; a copy is "
        "byte-identical audio, signed, and verifies with plain OpenSSL",
        ("tests/access/test_policy.py", "tests/access/test_copies.py"),
    ),
    Promise(
        "R7, R28–R35",
        "No role, court or participant can do through the API or the web what the rules do not "
        "allow; no recording or copy is readable without authorisation, guessed URLs included; "
        "CSRF, path traversal, oversized and malformed uploads refused; logins throttled; "
        "schemathesis finds no 5xx and no schema violation",
        ("tests/security", "tests/courts/test_permissions_matrix.py"),
    ),
)


@dataclass
class Outcome:
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    figures: list[str] = field(default_factory=list)

    @property
    def kept(self) -> bool:
        return self.passed > 0 and not self.failed


def _selector(node: str) -> tuple[str, str]:
    """A node id or file as (JUnit classname prefix, test name prefix)."""
    path, _, name = node.partition("::")
    module = path.removesuffix(".py").replace("/", ".")
    return module, name


def _matches(case: ET.Element, selector: tuple[str, str]) -> bool:
    module, name = selector
    classname = case.get("classname", "")
    in_module = classname == module or classname.startswith(module + ".")
    test = case.get("name", "")
    return in_module and (not name or test == name or test.startswith(name + "["))


def outcomes(report: ET.Element) -> dict[Promise, Outcome]:
    cases = list(report.iter("testcase"))
    result = {}
    for promise in PROMISES:
        outcome = Outcome()
        for case in cases:
            if not any(_matches(case, _selector(node)) for node in promise.tests):
                continue
            name = case.get("name", "")
            outcome.seconds += float(case.get("time", 0))
            if case.find("failure") is not None or case.find("error") is not None:
                outcome.failed.append(name)
            elif case.find("skipped") is not None:
                message = case.find("skipped").get("message", "")
                outcome.skipped.append(f"{name}: {message}")
            else:
                outcome.passed += 1
            for prop in case.iter("property"):
                outcome.figures.append(f"{prop.get('name')}: **{prop.get('value')}**")
        result[promise] = outcome
    return result


def render(results: dict[Promise, Outcome], pytest_seconds: float) -> str:
    lines = [
        "# What Taspa promises, and the test that proves each",
        "",
        "Written by `.venv/bin/python -m bench.reliability`, which runs the tests named below "
        "and copies their outcome and the figures they measured. Speed and capacity: "
        "`docs/benchmarks.md` (`.venv/bin/python -m bench`).",
        "",
        *machine(),
        f"- the tests below took {pytest_seconds:.0f} s",
        "",
        "| rule | promise | measured in this run | proven by | result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for promise, outcome in results.items():
        verdict = (
            f"kept: {outcome.passed} passed"
            if outcome.kept
            else f"**NOT KEPT**: {outcome.passed} passed, {len(outcome.failed)} failed"
        )
        if outcome.skipped:
            verdict += f", {len(outcome.skipped)} skipped"
        figures = "<br>".join(outcome.figures) or "—"
        tests = "<br>".join(f"`{node}`" for node in promise.tests)
        lines.append(
            f"| {promise.requirement} | {promise.promise} | {figures} | {tests} "
            f"| {verdict} ({outcome.seconds:.0f} s) |"
        )
    skipped = [(p, s) for p, o in results.items() for s in o.skipped]
    failed = [(p, f) for p, o in results.items() for f in o.failed]
    for title, items in (("Failed", failed), ("Skipped here", skipped)):
        if items:
            lines += ["", f"## {title}", ""]
            lines += [f"- {promise.requirement}: {item}" for promise, item in items]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reliability.md")
    args = parser.parse_args()
    nodes = sorted({node for promise in PROMISES for node in promise.tests})
    with tempfile.TemporaryDirectory(prefix="taspa-reliability-") as tmp:
        report = Path(tmp) / "junit.xml"
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             f"--junitxml={report}", "-o", "junit_family=xunit1", *nodes],
            cwd=ROOT, check=False,
        )  # fmt: skip
        if not report.exists():
            sys.exit(f"pytest wrote no report (exit {run.returncode})")
        # The report is the one pytest just wrote here, not untrusted input.
        junit = ET.parse(report).getroot()  # noqa: S314
        results = outcomes(junit)
        seconds = sum(float(suite.get("time", 0)) for suite in junit.iter("testsuite"))
    args.out.write_text(render(results, seconds), encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    if not all(outcome.kept for outcome in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
