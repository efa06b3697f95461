from django.apps import AppConfig


class RecorderConfig(AppConfig):
    name = "taspa.recorder"
    label = "recorder"
