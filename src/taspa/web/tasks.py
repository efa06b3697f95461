"""Background work of the web layer: the playback files of a newly sealed recording."""

from __future__ import annotations

from django_tasks import task

from taspa.recorder.models import Recording
from taspa.web.actions import prepare_playback


@task()
def prepare_playback_task(recording_id: int) -> str:
    recording = Recording.objects.select_related("hearing__courtroom").get(pk=recording_id)
    files = prepare_playback(recording)
    return f"playback files in {files.root}"
