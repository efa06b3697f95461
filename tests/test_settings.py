"""Settings for the test suite: the real settings module, over a throw-away TASPA_HOME."""

import os
import tempfile

_home = os.environ.setdefault("TASPA_HOME", tempfile.mkdtemp(prefix="taspa-test-"))
# Under pytest-xdist every worker inherits the controller's TASPA_HOME, and each worker's own
# database numbers hearings and recordings from 1: a shared home would give two workers' hearing 1
# one spool folder (spool/hearing-1: the second start sets the first's media aside, 409
# media_missing), one playback folder (playback/1) and one blob store. One home per worker.
_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker and os.path.basename(_home) != _worker:  # a test's subprocess keeps its worker's
    os.environ["TASPA_HOME"] = os.path.join(_home, _worker)
os.environ.setdefault("TASPA_FAST_PASSWORD_HASHER", "true")
os.environ.setdefault("TASPA_LANGUAGE", "en")
# R8's guard (a passing equipment check before the start) is off for fixtures that start
# recordings directly; tests/recorder/test_r8_preflight_guard.py turns it on and proves it.
os.environ.setdefault("TASPA_PREFLIGHT_MAX_AGE_MIN", "0")

from taspa.settings import *  # noqa: E402, F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Tasks run inline in tests, so a test sees a job's outcome at once.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not Django's shared-cache memory database: threads that write beside a request
    # (capture events, the capture keeper) then wait on the busy timeout as in production,
    # instead of failing at once with "database table is locked".
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ["TASPA_HOME"], "test.sqlite3")
    }
