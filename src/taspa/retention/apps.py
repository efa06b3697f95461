from django.apps import AppConfig


class RetentionConfig(AppConfig):
    name = "taspa.retention"
    label = "retention"
