"""Reads of the audit chain."""

from __future__ import annotations

from collections.abc import Iterator

from taspa.audit.actions import audit_key
from taspa.audit.models import AuditEvent, AuditHead
from taspa.audit.policy import ChainVerdict, EventFields, StoredEvent, verify_chain


def _stored_events() -> Iterator[StoredEvent]:
    # Stored order is by primary key: a row moved or inserted out of sequence shows up here.
    rows = AuditEvent.objects.order_by("id").values_list(
        "seq",
        "at",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "payload_digest",
        "prev_hash",
        "payload",
        "hash",
    )
    for seq, at, actor, action, otype, oid, digest, prev, payload, hash_ in rows.iterator(2000):
        fields = EventFields(seq, at.isoformat(), actor, action, otype, oid, digest, prev)
        yield StoredEvent(fields, payload, hash_)


def verify_audit_chain() -> ChainVerdict:
    head = AuditHead.objects.filter(id=1).first()
    return verify_chain(audit_key(), _stored_events(), head.seq if head else 0)
