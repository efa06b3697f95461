"""The `taspa` command as an operator runs it: a real process over a fresh TASPA_HOME."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def operator_env(home):
    """The environment an operator has: none of the test suite's own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASPA_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    return env | {"TASPA_HOME": str(home)}


def taspa(home, *args, check=False):
    env = operator_env(home)
    return subprocess.run(
        [sys.executable, "-m", "taspa", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


def test_demo_no_serve_seeds_and_audit_verifies(tmp_path):
    first = taspa(tmp_path, "demo", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "almaty-bostandyk" in first.stdout
    assert (tmp_path / "taspa.sqlite3").exists()
    again = taspa(tmp_path, "demo", "--no-serve")  # idempotent seeding
    assert again.returncode == 0, again.stderr
    verify = taspa(tmp_path, "audit", "verify")
    assert verify.returncode == 0 and "audit chain OK" in verify.stdout


def test_token_create_prints_a_token_and_refuses_unknown_users(tmp_path):
    taspa(tmp_path, "demo", "--no-serve", check=True)
    made = taspa(tmp_path, "token", "create", "--user", "secretary")
    assert made.returncode == 0 and made.stdout.strip().startswith("tsp_")
    missing = taspa(tmp_path, "token", "create", "--user", "nobody")
    assert missing.returncode != 0 and "nobody" in missing.stderr


def test_audit_verify_exits_1_naming_the_event(tmp_path):
    import sqlite3

    taspa(tmp_path, "demo", "--no-serve", check=True)
    db = sqlite3.connect(tmp_path / "taspa.sqlite3")
    db.execute("DROP TRIGGER audit_event_no_update")
    db.execute("UPDATE audit_auditevent SET action = 'forged' WHERE seq = 3")
    db.commit()
    db.close()
    result = taspa(tmp_path, "audit", "verify")
    assert result.returncode == 1
    assert "event 3" in result.stderr


def test_serve_refuses_a_bad_address(tmp_path):
    result = taspa(tmp_path, "serve", "--addr", "nowhere")
    assert result.returncode == 2 and "HOST:PORT" in result.stderr


def test_bad_setting_fails_loudly(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "taspa", "check"],
        env=operator_env(tmp_path) | {"TASPA_ROLE": "emperor"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "TASPA_ROLE" in result.stderr


def test_serve_answers_http_until_stopped(tmp_path):
    import socket
    import time
    import urllib.request

    taspa(tmp_path, "demo", "--no-serve", check=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = operator_env(tmp_path)
    server = subprocess.Popen(
        [sys.executable, "-m", "taspa", "serve", "--addr", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json") as r:
                    assert r.status == 200 and b"/api/v1/hearings" in r.read()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/") as page:
            assert "Кіру" in page.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=15)
        server.stdout.close()
