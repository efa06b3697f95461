from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "taspa.access"
    label = "access"
