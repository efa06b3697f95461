"""The audit chain's arithmetic: canonical JSON, event hashes and the chain check (R19, R20).

Each event's hash covers its own fields and the previous event's hash, so altering, deleting,
inserting or reordering rows breaks the chain at the first touched event. The hash is keyed
(HMAC-SHA256) with a key kept outside the database, so someone who can write the table but not
read the server's key cannot recompute a consistent chain after tampering.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8 (RFC 8785-like for our types)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def payload_digest(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload)).hexdigest()


@dataclass(frozen=True)
class EventFields:
    seq: int
    at: str  # ISO 8601, UTC
    actor: str
    action: str
    object_type: str
    object_id: str
    payload_digest: str
    prev_hash: str


def event_hash(key: bytes, fields: EventFields) -> str:
    body = canonical_json(fields.__dict__)
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    fields: EventFields
    payload: Any
    hash: str


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(key: bytes, events: Iterable[StoredEvent], head_seq: int) -> ChainVerdict:
    """Walk events in stored order and name the first that breaks the chain."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    for event in events:
        fields = event.fields
        if fields.seq != expected_seq:
            kind = "missing (deleted)" if fields.seq > expected_seq else "out of order or inserted"
            return ChainVerdict(False, checked, expected_seq, f"event {expected_seq} {kind}")
        if payload_digest(event.payload) != fields.payload_digest:
            return ChainVerdict(False, checked, fields.seq, "payload altered")
        if fields.prev_hash != expected_prev:
            return ChainVerdict(False, checked, fields.seq, "link to previous event broken")
        if not hmac.compare_digest(event_hash(key, fields), event.hash):
            return ChainVerdict(False, checked, fields.seq, "event fields altered")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    if checked != head_seq:
        return ChainVerdict(
            False,
            checked,
            checked + 1,
            f"chain ends at {checked}, head says {head_seq} (tail deleted)",
        )
    return ChainVerdict(True, checked)
