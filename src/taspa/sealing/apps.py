from django.apps import AppConfig


class SealingConfig(AppConfig):
    name = "taspa.sealing"
    label = "sealing"
