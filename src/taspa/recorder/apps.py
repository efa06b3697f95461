from django.apps import AppConfig


class RecorderConfig(AppConfig):
    name = "taspa.recorder"
    label = "recorder"

    def ready(self) -> None:
        from taspa.courts.selectors import HEARING_DETAIL_PARTS
        from taspa.recorder.selectors import recording_part

        HEARING_DETAIL_PARTS.append(recording_part)
