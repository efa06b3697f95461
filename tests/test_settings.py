"""Settings for the test suite: the real settings module, over a throw-away TASPA_HOME."""

import os
import tempfile

os.environ.setdefault("TASPA_HOME", tempfile.mkdtemp(prefix="taspa-test-"))
os.environ.setdefault("TASPA_FAST_PASSWORD_HASHER", "true")
os.environ.setdefault("TASPA_LANGUAGE", "en")
# R8's guard (a passing equipment check before the start) is off for fixtures that start
# recordings directly; tests/recorder/test_r8_preflight_guard.py turns it on and proves it.
os.environ.setdefault("TASPA_PREFLIGHT_MAX_AGE_MIN", "0")

from taspa.settings import *  # noqa: F403

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
