"""R7, R14: «подписывается … электронной цифровой подписью секретаря судебного заседания» — the
secretary of that session is whoever recorded it. A stand-in who operated the recorder signs the
recording with their own EDS (the assigned secretary's key is not needed), and the copy a
member of staff issues is signed with that staff member's key."""

from __future__ import annotations

import json
import time

import pytest

from taspa.courts import actions as court_actions
from taspa.courts.actions import RoleGrant
from taspa.recorder import runtime
from taspa.recorder.models import Recording
from taspa.sealing import democa
from taspa.sealing.actions import register_signing_key
from taspa.sealing.reading import read_sealed

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PASSWORD = "pin-1234"


@pytest.fixture
def stand_in_hearing(world, settings, tmp_path):
    ca = democa.create_ca("Stand-in Test CA")
    anchors = tmp_path / "trust-anchors.pem"
    anchors.write_bytes(ca.pem)
    settings.TASPA_TRUST_ANCHORS = str(anchors)
    settings.TASPA_SPOOL = str(tmp_path / "spool")
    court = world.courts["a"]
    stand_in = court_actions.create_user(
        actor=world.admin,
        username="stand-in-a",
        full_name="Дана Серікова",
        roles=[RoleGrant("secretary", court)],
    )
    register_signing_key(  # only the stand-in has a key: the assigned secretary has none
        actor=world.admin,
        user=stand_in,
        p12=democa.issue_p12(ca, common_name="Дана Серікова", password=PASSWORD),
        password=PASSWORD,
    )
    hearing = world.hearing(court="a", kind="civil")
    court_actions.assign_stand_in(actor=world.admin, hearing=hearing, secretary=stand_in)
    yield hearing, stand_in
    engine = runtime.engine_for(hearing.pk)
    if engine is not None and engine.running:
        engine.stop()
    runtime.forget(hearing.pk)


def test_r7_r14_a_stand_ins_recording_is_signed_with_the_stand_ins_key(stand_in_hearing, api_as):
    hearing, stand_in = stand_in_hearing
    api = api_as(stand_in)
    checks = api.post(f"/hearings/{hearing.pk}/preflight").json()["checks"]
    key = next(c for c in checks if c["name"] == "signing_key")
    assert key["ok"] and "Дана Серікова" in key["detail"]  # R8 checks the key that will sign
    assert api.post(f"/hearings/{hearing.pk}/start").status_code == 200
    time.sleep(1.5)
    stopped = api.post(f"/hearings/{hearing.pk}/stop").json()
    assert stopped["state"] == "sealed", stopped
    recording = Recording.objects.get(pk=stopped["recording"])
    assert recording.signed_by == stand_in and recording.operated_by == stand_in
    assert "Дана Серікова" in recording.signer_subject
    manifest = json.loads(read_sealed(recording, "manifest"))
    assert manifest["secretary"]["username"] == "stand-in-a"
