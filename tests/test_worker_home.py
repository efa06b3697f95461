"""The suite's own isolation: under pytest-xdist each worker has its own TASPA_HOME.

Each worker's test database numbers hearings and recordings from 1, and the spool
(``spool/hearing-<id>``), the playback files (``playback/<recording id>``) and the file blob
store are named by those ids: two workers sharing one home wrote each other's hearing folders
(a stop answered 409 ``media_missing``, a sealed recording found another's playback files).
"""

import os
from pathlib import Path

import pytest
from django.conf import settings


def test_each_xdist_worker_records_under_its_own_home() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        pytest.skip("one process: nothing to share a home with")
    home = Path(settings.TASPA_HOME)
    assert home.name == worker, home
    assert Path(settings.TASPA_SPOOL).is_relative_to(home)
    assert f"file://{home / 'blobs'}" == settings.TASPA_STORAGE
