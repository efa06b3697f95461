"""What the incidents area does when the recorder reports (``taspa.recorder.signals``)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("taspa.incidents")


def on_recording_stopped(sender: Any, recording: Any, **kwargs: Any) -> None:
    """After the hearing: the court administrator hears of its incidents (R9), and a background
    check finds out whether the hearing was actually recorded (R17)."""
    from taspa.incidents.actions import notify_court_admins
    from taspa.incidents.tasks import check_hearing_recorded

    notify_court_admins(hearing=recording.hearing)
    check_hearing_recorded.enqueue(recording.hearing_id)
