"""R19, R20 (issue 15 item 4): each replication run sends the court's audit head and its new
evidence roots; the centre (a real ``taspa serve`` subprocess) keeps them append-only, alarms
when the head goes backwards, and answers with a receipt signed by its own key. ``taspa audit
verify --against-central`` catches a truncated chain even with its head row rewritten."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from sealing.sealkit import LocalTsa
from taspa.audit.models import AuditEvent, AuditHead
from taspa.evidence.actions import build_day
from taspa.evidence.models import EvidenceTree, WitnessReceipt
from taspa.evidence.witness import WitnessError, check_receipt
from taspa.replication.client import HttpCentral
from taspa.replication.court import replicate
from taspa.sealing import democa

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TRIGGERS = importlib.import_module("taspa.audit.migrations.0003_append_only_triggers")


def audit_verify(*args: str) -> tuple[int, str]:
    out, code = StringIO(), 0
    try:
        call_command("audit", "verify", *args, stdout=out)
    except CommandError as error:
        return error.returncode, str(error)
    return code, out.getvalue()


def truncate_history(keep: int) -> None:
    """The attack of issue 15: drop the append-only triggers, delete every event after
    ``keep`` and rewrite the head row to match, then put the triggers back."""
    last = AuditEvent.objects.get(seq=keep)
    with connection.schema_editor() as editor:
        TRIGGERS.backwards(None, editor)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq > %s", [keep])
        cursor.execute(
            "UPDATE audit_audithead SET seq = %s, hash = %s WHERE id = 1", [keep, last.hash]
        )
    with connection.schema_editor() as editor:
        TRIGGERS.forwards(None, editor)


def test_r19_truncated_chain_with_rewritten_head_fails_against_central(
    make_sealed, central, settings
):
    make_sealed(size=200_000)
    make_sealed(size=150_000)
    settings.TASPA_CENTRAL_URL, settings.TASPA_CENTRAL_TOKEN = central.url, central.court_token()
    result = replicate()
    assert (result.sent, result.failed, result.errors) == (2, 0, [])
    receipt = WitnessReceipt.objects.get()
    witnessed_seq = receipt.seq
    assert receipt.body["court"] == "court-a" and len(receipt.centre_key) == 64
    code, out = audit_verify("--against-central")
    assert code == 0 and "against central: OK" in out and "agrees with" in out, out

    truncate_history(keep=witnessed_seq - 5)
    code, out = audit_verify()
    assert code == 0 and "audit chain OK" in out  # the hole issue 15 describes
    code, out = audit_verify("--against-central")
    print(out)  # the report quotes this line
    assert code == 1
    assert f"the centre witnessed event {witnessed_seq}" in out and "shorter" in out, out

    # The next run tells the centre a head older than one it witnessed: the centre alarms.
    replicate()
    alarms = central.query(
        "import json; from taspa.replication.models import Alarm;"
        "print(json.dumps(list(Alarm.objects.values_list('kind', 'detail'))))"
    )
    assert any(kind == "rewound" and "went back" in detail for kind, detail in alarms), alarms
    # Deleting everything, head included, is caught the same way.
    truncate_history(keep=1)
    AuditHead.objects.filter(id=1).update(seq=1)
    code, out = audit_verify("--against-central")
    assert code == 1 and "the chain ends at event 1" in out, out


def test_r14_the_days_evidence_roots_go_to_the_centre_with_the_head(
    make_sealed, central, settings, pki
):
    tsa = LocalTsa(democa.issue_tsa(pki.ca)).start()
    try:
        settings.TASPA_TSA_URL = tsa.url
        make_sealed(size=120_000)
        make_sealed(size=130_000)
        assert build_day(actor=None, day=timezone.localdate()).trees
    finally:
        tsa.stop()
    peer = HttpCentral(central.url, central.court_token())
    assert replicate(central=peer).errors == []
    tree = EvidenceTree.objects.get()
    assert tree.witnessed_at is not None
    sent = {"tree": tree.pk, "day": tree.day.isoformat(), "root": tree.root}
    assert WitnessReceipt.objects.get().body["roots"] == [sent]
    held = central.query(
        "import json; from taspa.evidence.models import WitnessedRoot;"
        "print(json.dumps(list(WitnessedRoot.objects.values('tree', 'root'))))"
    )
    assert held == [{"tree": tree.pk, "root": tree.root}]
    assert HttpCentral(central.url, central.court_token()).witnessed()["roots"] == [sent]
    replicate(central=peer)  # the next run: the head again, the root not twice
    assert WitnessReceipt.objects.order_by("id").last().body["roots"] == []


def test_r19_a_receipt_not_signed_by_the_pinned_centre_key_is_refused(
    make_sealed, central, settings
):
    make_sealed(size=100_000)
    peer = HttpCentral(central.url, central.court_token())
    replicate(central=peer)
    first = WitnessReceipt.objects.get()
    sent = {"seq": first.seq, "hash": first.hash, "roots": first.body["roots"]}
    answer = {"receipt": first.body, "key": first.centre_key, "signature": first.signature}
    assert check_receipt(answer, sent) == first.body
    bent = {**answer, "receipt": {**first.body, "seq": first.seq - 1}}
    with pytest.raises(WitnessError, match="does not verify"):
        check_receipt(bent, sent)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from taspa.audit.policy import canonical_json

    other = Ed25519PrivateKey.generate()
    forged = {
        "receipt": first.body,
        "key": other.public_key().public_bytes_raw().hex(),
        "signature": other.sign(canonical_json(first.body)).hex(),
    }
    with pytest.raises(WitnessError, match="key changed"):
        check_receipt(forged, sent)
