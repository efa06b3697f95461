from django.apps import AppConfig


class StorageConfig(AppConfig):
    name = "taspa.storage"
    label = "storage"
