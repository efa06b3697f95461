import logging

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

log = logging.getLogger("taspa.web")


def _on_sealed(sender, recording, **kwargs) -> None:
    """Peaks, renditions and the signature verdict are made once, when a recording is sealed,
    in the background worker (inline where the task backend is the immediate one)."""
    from taspa.web.tasks import prepare_playback_task

    try:
        prepare_playback_task.enqueue(recording.pk)
    except Exception:  # the seal stands whatever happens to the playback files
        log.exception("could not enqueue playback files for recording %s", recording.pk)


class WebConfig(AppConfig):
    name = "taspa.web"
    label = "web"
    verbose_name = _("Web interface")

    def ready(self) -> None:
        from taspa.recorder.signals import recording_sealed

        recording_sealed.connect(_on_sealed, dispatch_uid="taspa.web.playback")
