"""Settings that jobs read long after start (a seal's proofs, R14; the archive, R27; media,
R21–R26, R33) are checked when Taspa starts, as every other setting: a bad value stops
``taspa`` at once with one line naming the variable, never a traceback inside a job hours later;
a good value from the environment is the one the jobs use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def taspa(home, *args: str, **variables: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "taspa", *args],
        env=env | {"TASPA_HOME": str(home)} | variables,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("TASPA_REVOCATION_TIMEOUT", "soon", "expected a number"),
        ("TASPA_REVOCATION_TIMEOUT", "0", "must be above 0"),
        ("TASPA_PROOF_ALERT_AFTER_HOURS", "-1", "must be above 0"),
        ("TASPA_PROOF_ALERT_AFTER_HOURS", "nan", "expected a number"),
        ("TASPA_TSA_TIMEOUT", "3s", "expected a number"),
        ("TASPA_TSA_URL", "tsa.court.kz", "expected http://... or https://..."),
        ("TASPA_ARCHIVE_STORAGE", "/srv/archive", "expected file://... or s3://..."),
        ("TASPA_MEDIUM_FILESYSTEM", "ntfs", "expected one of exfat, vfat, ext4"),
        ("TASPA_COPY_LINK_DAYS", "0", "must be at least 1"),
        ("TASPA_COVERAGE_TOLERANCE_S", "-5", "must be at least 0"),
    ],
)
def test_r14_a_bad_job_setting_stops_start_up_naming_it(tmp_path, name, value, said):
    result = taspa(tmp_path, "check", **{name: value})
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith("taspa: setting error: ")
    assert name in result.stderr and said in result.stderr
    assert "Traceback" not in result.stderr


def test_r14_the_environments_values_are_the_ones_the_jobs_use(tmp_path):
    script = (
        "from taspa.sealing import proofs, revocation, timestamps; "
        "from taspa.custody.actions import medium_filesystem; "
        "from taspa.access.copies import device_roots; "
        "print(revocation.configured_timeout(), proofs.alert_after().total_seconds(), "
        "timestamps.configured_timestamper().timeout, timestamps.configured_tsa_url(), "
        "medium_filesystem(), device_roots())"
    )
    result = taspa(
        tmp_path,
        "shell",
        "-c",
        script,
        TASPA_REVOCATION_TIMEOUT="1.5",
        TASPA_PROOF_ALERT_AFTER_HOURS="6",
        TASPA_TSA_URL="https://tsa.court.kz/tsp",
        TASPA_TSA_TIMEOUT="7",
        TASPA_MEDIUM_FILESYSTEM="vfat",
        TASPA_MEDIUM_DEVICE_ROOTS="/dev/disk/by-id",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == (
        "1.5 21600.0 7.0 https://tsa.court.kz/tsp vfat ['/dev/disk/by-id']"
    )
