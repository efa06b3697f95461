from django.apps import AppConfig


class CustodyConfig(AppConfig):
    name = "taspa.custody"
    label = "custody"
