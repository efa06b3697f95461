"""``retention_changed(case=...)``: the case's judgment date or legal hold changed (R24);
sent after the transaction commits (replication sends the change to the centre, R23).

And the receivers that give the centre's replicas their retention clock (R23, R24, R27): when the
centre acknowledges a replica, or takes changed metadata for one, its mirrored recording gets the
case's clock, so the centre's sweep archives and deletes it on schedule.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import Signal

retention_changed = Signal()


def replica_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """post_save of ``replication.Replica`` at the centre: an acknowledged replica with its
    mirrored recording gets (or updates) its retention row, in the same transaction."""
    if getattr(settings, "TASPA_ROLE", "court") != "central":
        return
    if instance.state != "acknowledged" or instance.recording_id is None:
        return
    from taspa.recorder.models import Recording
    from taspa.retention.actions import on_replica_held

    recording = Recording.objects.select_related("hearing__case").get(pk=instance.recording_id)
    on_replica_held(recording=recording, metadata=instance.metadata or {})


def connect() -> None:
    from django.db.models.signals import post_save

    from taspa.replication.models import Replica

    post_save.connect(replica_saved, sender=Replica, dispatch_uid="retention.replica_saved")
