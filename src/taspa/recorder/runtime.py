"""The capture engines running in this process, one per hearing being recorded.

The engine is the real I/O (ffmpeg + spool); the database says what the hearing's state is,
and ``recorder.lease`` which process owns the capture. After a crash of the owning process,
another one (or the same after its restart) recovers the engine from its spool journal
(``actions.recover_capture``) and registers it here with ``adopt``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings

from taspa.recorder.engine import CaptureEngine, EngineEvent, Source

_engines: dict[int, CaptureEngine] = {}
_lock = threading.Lock()


def spool_dir_for(hearing_id: int) -> Path:
    return Path(settings.TASPA_SPOOL) / f"hearing-{hearing_id}"


def upload_dir(hearing_id: int) -> Path:
    """Where an agent's spool for ``hearing_id`` is rebuilt on the server."""
    return Path(settings.TASPA_SPOOL) / "uploads" / f"hearing-{hearing_id}"


def sources_of(courtroom: Any) -> list[Source]:
    return [
        Source(
            kind=source["kind"],
            input=source["input"],
            format=source.get("format"),
            label=source.get("label", ""),
        )
        for source in courtroom.sources
    ]


def new_engine(hearing: Any, on_event: Callable[[int, EngineEvent], None]) -> CaptureEngine:
    """Create (not start) the engine for ``hearing``; refuses if one is already registered."""
    with _lock:
        if hearing.pk in _engines:
            return _engines[hearing.pk]
        engine = CaptureEngine(
            sources=sources_of(hearing.courtroom),
            spool_dir=spool_dir_for(hearing.pk),
            on_event=lambda event, hearing_id=hearing.pk: on_event(hearing_id, event),
        )
        _engines[hearing.pk] = engine
        return engine


def engine_for(hearing_id: int) -> CaptureEngine | None:
    with _lock:
        return _engines.get(hearing_id)


def forget(hearing_id: int) -> None:
    with _lock:
        _engines.pop(hearing_id, None)


def adopt(hearing_id: int, engine: CaptureEngine) -> None:
    """Register an engine recovered from its spool (``actions.recover_capture``)."""
    with _lock:
        _engines[hearing_id] = engine


def hearings() -> list[int]:
    """The hearings whose capture runs in this process."""
    with _lock:
        return list(_engines)
