"""The centre witnesses each court's history (issue 15 item 4).

With each replication run the court sends its audit chain head (sequence number + chain hash)
and the evidence roots (RFC 4998 trees) it built since the last run. The centre keeps them
append-only (``replication.Witness``, ``WitnessedRoot``), raises an alarm when a court's head
goes backwards or disagrees with one it witnessed, and answers with a receipt signed by its own
Ed25519 key (``TASPA_HOME/witness-key.pem``, made once). The court keeps the receipts, pinning
the first key it saw. ``taspa audit verify --against-central`` then asks the centre what it
witnessed and fails when the court's chain is shorter than, or disagrees with, any of it — the
events themselves are compared, so rewriting the court's head row hides nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from taspa.audit.actions import record
from taspa.audit.models import AuditEvent, AuditHead
from taspa.audit.policy import canonical_json
from taspa.audit.selectors import verify_audit_chain
from taspa.errors import InvalidInput
from taspa.evidence.models import EvidenceTree, WitnessedRoot, WitnessReceipt
from taspa.replication.central import require_central
from taspa.replication.models import Alarm, Peer, Witness
from taspa.replication.policy import AlarmKind

KEY_FILE = "witness-key.pem"
_HEX = re.compile(r"^[0-9a-f]{64,128}$")


class WitnessError(Exception):
    """The centre's receipt does not check out (bad signature, a changed key, other content)."""


# The centre.


def centre_key() -> Ed25519PrivateKey:
    """The centre's witness key, created (0600, exclusively) under TASPA_HOME on first use."""
    path = Path(settings.TASPA_HOME) / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = Ed25519PrivateKey.generate()
    with os.fdopen(fd, "wb") as stream:
        stream.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return key


def _public_hex(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def _roots(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise InvalidInput("invalid_roots", _("roots must be a list of {tree, day, root}."))
    out = []
    for item in value:
        try:
            tree, day, root = int(item["tree"]), date.fromisoformat(item["day"]), item["root"]
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("invalid_roots", _("each root needs tree, day and root.")) from None
        if not isinstance(root, str) or not _HEX.match(root) or not 1 <= tree < 2**63:
            raise InvalidInput(
                "invalid_roots",
                _("tree %(tree)s: root is not a hex digest."),
                params={"tree": tree},
            )
        out.append({"tree": tree, "day": day.isoformat(), "root": root})
    return out


def witness_head(*, peer: Peer, seq: int, chain_hash: str, roots: Any) -> dict[str, Any]:
    """At the centre: keep the court's head and roots, alarm when the head went backwards or
    disagrees, and return the signed receipt ``{receipt, key, signature}``."""
    require_central()
    if not re.match(r"^[0-9a-f]{64}$", chain_hash) or seq < 0:
        raise InvalidInput("invalid_audit_head", _("seq must be >= 0 and hash 64 hex digits."))
    roots = _roots(roots)
    court = peer.court
    now = timezone.now()
    with transaction.atomic():
        Peer.objects.select_for_update().filter(pk=peer.pk).first()  # one court at a time
        latest = Witness.objects.filter(court=court).order_by("-seq").first()
        same = Witness.objects.filter(court=court, seq=seq).first()
        problem = ""
        if same is not None and same.hash != chain_hash:
            problem = (
                f"audit head #{seq} now has hash {chain_hash[:12]}…, witnessed {same.hash[:12]}…"
            )
        elif latest is not None and seq < latest.seq:
            problem = f"audit head went back from #{latest.seq} to #{seq}"
        if problem:
            Alarm.objects.create(court=court, kind=AlarmKind.REWOUND, detail=problem, raised_at=now)
            record(
                actor=None,
                action="replication.alarm",
                target=court,
                payload={"kind": AlarmKind.REWOUND, "detail": problem},
            )
        elif same is None and seq > 0:
            Witness.objects.create(
                court=court, seq=seq, hash=chain_hash, countersignature="ed25519", received_at=now
            )
        for root in roots:
            WitnessedRoot.objects.get_or_create(
                court=court,
                tree=root["tree"],
                defaults={"day": root["day"], "root": root["root"], "received_at": now},
            )
    body = {
        "court": court.code,
        "seq": seq,
        "hash": chain_hash,
        "roots": roots,
        "received_at": now.isoformat(),
        "alarm": problem,
    }
    key = centre_key()
    return {
        "receipt": body,
        "key": _public_hex(key),
        "signature": key.sign(canonical_json(body)).hex(),
    }


def witnessed(peer: Peer) -> dict[str, Any]:
    """At the centre: every head and root witnessed for the caller's court."""
    require_central()
    heads = Witness.objects.filter(court=peer.court).order_by("seq")
    roots = WitnessedRoot.objects.filter(court=peer.court).order_by("tree")
    return {
        "heads": [
            {"seq": w.seq, "hash": w.hash, "received_at": w.received_at.isoformat()} for w in heads
        ],
        "roots": [{"tree": r.tree, "day": r.day.isoformat(), "root": r.root} for r in roots],
    }


# The court.


def send_witness(central: Any) -> WitnessReceipt:
    """At the court, once per replication run: the head and the new roots to the centre; the
    signed receipt is checked and kept."""
    head = AuditHead.objects.filter(id=1).first()
    trees = list(EvidenceTree.objects.filter(witnessed_at__isnull=True).order_by("id"))
    body = {
        "seq": head.seq if head else 0,
        "hash": head.hash if head else "0" * 64,
        "roots": [{"tree": t.pk, "day": t.day.isoformat(), "root": t.root} for t in trees],
    }
    answer = central.witness(body)
    receipt = check_receipt(answer, body)
    with transaction.atomic():
        row = WitnessReceipt.objects.create(
            seq=body["seq"],
            hash=body["hash"],
            body=receipt,
            centre_key=answer["key"],
            signature=answer["signature"],
        )
        EvidenceTree.objects.filter(pk__in=[t.pk for t in trees]).update(
            witnessed_at=row.received_at
        )
    return row


def check_receipt(answer: Any, sent: dict[str, Any]) -> dict[str, Any]:
    """The receipt in ``answer``, if signed by the pinned centre key over what was ``sent``."""
    try:
        receipt, key_hex, signature = answer["receipt"], answer["key"], answer["signature"]
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key_hex))
        key.verify(bytes.fromhex(signature), canonical_json(receipt))
    except (KeyError, TypeError, ValueError, InvalidSignature) as error:
        raise WitnessError(f"the centre's receipt does not verify: {error!r}") from None
    pinned = WitnessReceipt.objects.order_by("id").values_list("centre_key", flat=True).first()
    if pinned is not None and pinned != key_hex:
        raise WitnessError("the centre's witness key changed since the first receipt")
    if (receipt.get("seq"), receipt.get("hash"), receipt.get("roots")) != (
        sent["seq"],
        sent["hash"],
        sent["roots"],
    ):
        raise WitnessError("the receipt is for something else than what was sent")
    return receipt


@dataclass(frozen=True)
class CentralVerdict:
    ok: bool
    detail: str


def check_against_central(central: Any) -> CentralVerdict:
    """The court's chain against everything the centre witnessed: each witnessed head must be
    an event of the (intact) chain with the same hash; one missing is a truncation."""
    local = verify_audit_chain()
    if not local.ok:
        return CentralVerdict(
            False, f"audit chain BROKEN at event {local.first_bad_seq}: {local.problem}"
        )
    heads = [h for h in central.witnessed()["heads"] if int(h["seq"]) > 0]
    if not heads:
        return CentralVerdict(True, f"{local.events_checked} events; the centre witnessed none yet")
    ours = dict(
        AuditEvent.objects.filter(seq__in=[int(h["seq"]) for h in heads]).values_list("seq", "hash")
    )
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    for head in sorted(heads, key=lambda h: int(h["seq"])):
        seq, when = int(head["seq"]), head.get("received_at", "")[:10]
        if seq not in ours:
            return CentralVerdict(
                False,
                f"the chain ends at event {last}, but the centre witnessed event {seq} on "
                f"{when}: events were removed (the chain is shorter than witnessed)",
            )
        if ours[seq] != head["hash"]:
            return CentralVerdict(
                False, f"event {seq} disagrees with the head the centre witnessed on {when}"
            )
    top = max(int(h["seq"]) for h in heads)
    return CentralVerdict(
        True,
        f"{local.events_checked} events; agrees with {len(heads)} heads the centre witnessed "
        f"(latest #{top})",
    )


def witness_run(central: Any) -> list[str]:
    """``send_witness`` as one step of a replication run: its failure is the run's error line
    (the head goes with the next run), never the end of the run."""
    from taspa.replication.client import CentralError, TransferBroken

    for attempt in (1, 2):
        try:
            send_witness(central)
            return []
        except TransferBroken as error:  # an idle keep-alive connection the centre closed
            if attempt == 2:
                return [f"audit head not witnessed: {error}"]
        except (CentralError, WitnessError) as error:
            return [f"audit head not witnessed: {error}"]
    return []


def against_central_line() -> tuple[bool, str]:
    """``taspa audit verify --against-central``: whether it agrees, and the line to print."""
    from taspa.replication.client import CentralError
    from taspa.replication.court import central_from_settings

    try:
        verdict = check_against_central(central_from_settings())
    except CentralError as error:
        return False, f"against central: FAIL, the centre could not be asked: {error}"
    status = "OK" if verdict.ok else "FAIL"
    return verdict.ok, f"against central: {status}, {verdict.detail}"
