"""The one way to append to the audit chain; every other app's action calls ``record``."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from taspa.audit.models import AuditEvent, AuditHead
from taspa.audit.policy import (
    GENESIS,
    EventFields,
    canonical_json,
    event_hash,
    payload_digest,
)


def audit_key() -> bytes:
    return settings.TASPA_AUDIT_KEY.encode("utf-8")


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    payload: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (so it commits or rolls back with the write).

    ``actor`` is a user, or ``None`` for the system itself (scheduler, watchdog).
    """
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    # Round-trip through canonical JSON so the stored payload hashes the same when read back.
    payload = json.loads(canonical_json(payload or {}))
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            id=1, defaults={"seq": 0, "hash": GENESIS}
        )
        fields = EventFields(
            seq=head.seq + 1,
            at=timezone.now().isoformat(),
            actor=_actor_label(actor),
            action=action,
            object_type=object_type,
            object_id=object_id,
            payload_digest=payload_digest(payload),
            prev_hash=head.hash,
        )
        event = AuditEvent.objects.create(
            seq=fields.seq,
            at=fields.at,
            actor=actor if getattr(actor, "pk", None) else None,
            actor_label=fields.actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            payload=payload,
            payload_digest=fields.payload_digest,
            prev_hash=fields.prev_hash,
            hash=event_hash(audit_key(), fields),
        )
        AuditHead.objects.filter(id=1).update(seq=fields.seq, hash=event.hash)
    return event


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    if getattr(actor, "pk", None):
        return f"{actor.username}#{actor.pk}"
    return str(actor)
