from django.apps import AppConfig


class ReplicationConfig(AppConfig):
    name = "taspa.replication"
    label = "replication"
