"""Settings for the test suite: the real settings module, over a throw-away TASPA_HOME."""

import os
import tempfile

os.environ.setdefault("TASPA_HOME", tempfile.mkdtemp(prefix="taspa-test-"))
os.environ.setdefault("TASPA_FAST_PASSWORD_HASHER", "true")
os.environ.setdefault("TASPA_LANGUAGE", "en")

from taspa.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Tasks run inline in tests, so a test sees a job's outcome at once.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
