"""`taspa backup` / `taspa restore` for the embedded default: restored onto a fresh TASPA_HOME,
every recording verifies, the audit chain verifies and signing works with the restored KEK;
without the keys kept apart, neither works; a damaged backup is refused."""

from __future__ import annotations

import json

import pytest

from .proc import operator_env, taspa

pytestmark = pytest.mark.slow

CHECK = (
    "import json; from taspa.recorder.models import Recording; "
    "from taspa.web.actions import verify_now; from taspa.sealing.actions import signer_for; "
    "from taspa.courts.models import User; "
    "sealed = Recording.objects.filter(state='sealed'); "
    "verdicts = {r.pk: verify_now(r)['ok'] for r in sealed}; "
    "signing = 'ok'\n"
    "try: signer_for(User.objects.get(username='secretary')).certificate\n"
    "except Exception as error: signing = getattr(error, 'code', type(error).__name__)\n"
    "print('RESULT', json.dumps({'verdicts': verdicts, 'signing': signing}))"
)


def state(env) -> dict:
    done = taspa(env, "shell", "-c", CHECK)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.split("RESULT", 1)[1])


@pytest.fixture(scope="module")
def backed_up(tmp_path_factory):
    home = tmp_path_factory.mktemp("original")
    env = operator_env(home)
    demo = taspa(env, "demo", "--no-serve", "--seconds", "4", timeout=300)
    assert demo.returncode == 0, demo.stderr[-3000:]
    backup, keys = tmp_path_factory.mktemp("backup") / "b", tmp_path_factory.mktemp("keys")
    made = taspa(env, "backup", str(backup), "--keys", str(keys))
    assert made.returncode == 0, made.stderr
    return home, backup, keys


def test_restore_onto_a_fresh_home_verifies_recordings_audit_and_signing(backed_up, tmp_path):
    home, backup, keys = backed_up
    kek = (keys / "kek").read_text().strip()
    for path in backup.rglob("*"):
        if path.is_file():
            assert kek.encode() not in path.read_bytes(), f"the KEK is in the backup: {path}"
    env = operator_env(tmp_path / "fresh")
    restored = taspa(env, "restore", str(backup), "--keys", str(keys))
    assert restored.returncode == 0, restored.stderr
    assert taspa(env, "migrate", "-v0").returncode == 0
    audit = taspa(env, "audit", "verify")
    assert audit.returncode == 0 and "OK" in audit.stdout, audit.stdout + audit.stderr
    after = state(env)
    assert after["verdicts"] and all(after["verdicts"].values()), after
    assert after["signing"] == "ok"
    assert after["verdicts"].keys() == state(operator_env(home))["verdicts"].keys()


def test_restore_without_the_keys_can_neither_sign_nor_check_the_chain(backed_up, tmp_path):
    _, backup, _ = backed_up
    env = operator_env(tmp_path / "keyless")
    restored = taspa(env, "restore", str(backup))
    assert restored.returncode == 0 and "--keys" in restored.stderr
    assert taspa(env, "audit", "verify").returncode == 1
    assert state(env)["signing"] == "signing_key_unreadable"


def test_a_damaged_backup_is_refused_naming_the_file(backed_up, tmp_path):
    _, backup, keys = backed_up
    blob = next(p for p in (backup / "home" / "blobs").rglob("*") if p.is_file() and
                p.stat().st_size > 100)  # fmt: skip
    mode = blob.stat().st_mode
    blob.chmod(0o644)
    original = blob.read_bytes()
    try:
        blob.write_bytes(original[:50] + bytes([original[50] ^ 1]) + original[51:])
        env = operator_env(tmp_path / "damaged")
        refused = taspa(env, "restore", str(backup), "--keys", str(keys))
        assert refused.returncode == 2
        assert blob.name in refused.stderr and "SHA-256" in refused.stderr
        assert not (tmp_path / "damaged" / "taspa.sqlite3").exists()
    finally:
        blob.write_bytes(original)
        blob.chmod(mode)
