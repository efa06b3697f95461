from django.apps import AppConfig


class ReplicationConfig(AppConfig):
    name = "taspa.replication"
    label = "replication"

    def ready(self) -> None:
        from taspa.replication import signals

        signals.connect()
