"""R17, R18: acts drawn up from incidents, issued as two PDFs (Kazakh, then Russian), signed by
every signer the instance requires with their own EDS key (PAdES, incremental), complete only
when all have signed, then attached to the minutes; ``taspa verify`` checks the signatures."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from taspa.audit.selectors import verify_audit_chain
from taspa.documents.pades import pdf_signatures
from taspa.incidents.actions import open_incident

pytestmark = pytest.mark.django_db


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())  # table cells wrap lines anywhere


def draw_up(api, hearing, *incidents):
    answer = api.post(f"/hearings/{hearing.pk}/acts", {"incidents": [i.pk for i in incidents]})
    assert answer.status_code == 201, answer.content
    return answer.json()


def pdf(api, act_id, language):
    answer = api.get(f"/acts/{act_id}/pdf?language={language}")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    return answer.content


@pytest.fixture
def first(world):
    hearing = world.hearing(court="a", kind="civil")
    incident = open_incident(
        actor=world.person("secretary"),
        hearing=hearing,
        kind="recording_impossible",
        detail="Курылғы қосылмады / the recorder would not start.",
    )
    return hearing, incident


def test_r17_r18_first_instance_act_secretary_and_court_admin(world, api_as, keys, first, tmp_path):
    hearing, incident = first
    secretary, admin = world.person("secretary"), world.person("court_admin")
    keys.register(world.admin, secretary, "Айгүл Жұмабаева")
    keys.register(world.admin, admin, "Болат Сейітов")
    as_secretary, as_admin = api_as(secretary), api_as(admin)

    act = draw_up(as_secretary, hearing, incident)
    assert act["status"] == "pending" and act["number"].startswith("1/")
    assert [s["role"] for s in act["signers"]] == ["secretary", "court_admin"]
    assert all(s["user"] is None for s in act["signers"])

    kk, ru = pdf(as_secretary, act["id"], "kk"), pdf(as_secretary, act["id"], "ru")
    assert kk != ru
    kk_text, ru_text = pdf_text(kk), pdf_text(ru)
    assert "техникалық себептерге байланысты" in kk_text and "Сот әкімшісі" in kk_text
    assert "по техническим причинам" in ru_text and "Администратор суда" in ru_text
    assert "Администратор суда" not in kk_text and "Сот әкімшісі" not in ru_text  # never mixed
    for text in (kk_text, ru_text):
        assert act["number"] in text and hearing.case.number in text
        assert "the recorder would not start" in text

    signed = as_secretary.post(f"/acts/{act['id']}/sign")
    assert signed.status_code == 200, signed.content
    body = signed.json()
    assert body["status"] == "pending"
    assert body["signers"][0]["user"] == "secretary-a" and body["signers"][0]["signed_at"]
    assert body["signers"][1] == {"role": "court_admin", "user": None, "name": None,
                                  "signed_at": None}  # fmt: skip

    again = as_secretary.post(f"/acts/{act['id']}/sign")
    assert again.status_code == 409 and again.json()["error"] == "already_signed"
    judge = api_as(world.person("judge")).post(f"/acts/{act['id']}/sign")
    assert judge.status_code == 403 and judge.json()["error"] == "not_a_required_signer"

    done = as_admin.post(f"/acts/{act['id']}/sign").json()
    assert done["status"] == "complete"
    detail = as_admin.get(f"/hearings/{hearing.pk}").json()
    shown = detail["acts"][0]
    assert shown["status"] == "complete" and shown["attached_to_minutes_at"]
    assert [(s["role"], s["user"]) for s in shown["signers"]] == [
        ("secretary", "secretary-a"),
        ("court_admin", "court_admin-a"),
    ]

    for language in ("kk", "ru"):
        document = pdf(as_admin, act["id"], language)
        verdicts = pdf_signatures(document)
        assert [v.field for v in verdicts] == ["secretary", "court_admin"]
        assert all(v.intact and v.valid for v in verdicts)  # the first survived the second
        assert [v.covers_whole_file for v in verdicts] == [False, True]
        assert "Айгүл Жұмабаева" in verdicts[0].signer and "Болат Сейітов" in verdicts[1].signer
        path = tmp_path / f"act-{language}.pdf"
        path.write_bytes(document)
        call_command("verify", str(path))
    assert verify_audit_chain().ok


def test_r18_appeal_act_needs_the_secretary_the_regional_head_and_staff(world, api_as, keys):
    hearing = world.hearing(
        court="r", kind="criminal", instance="appeal", new_evidence_examined=True
    )
    incident = open_incident(
        actor=None, hearing=hearing, kind="source_lost", detail="Camera feed dropped."
    )
    secretary = world.person("secretary", "r")
    head, staff = world.person("regional_head", "a"), world.person("regional_staff", "b")
    for person in (secretary, head, staff, world.person("court_admin", "r")):
        keys.register(world.admin, person)
    act = draw_up(api_as(secretary), hearing, incident)
    assert [s["role"] for s in act["signers"]] == ["secretary", "regional_head", "regional_staff"]
    ru_text = pdf_text(pdf(api_as(secretary), act["id"], "ru"))
    assert "Руководитель подразделения департамента Судебной администрации" in ru_text
    assert "апелляционная инстанция" in ru_text

    # The court administrator does not sign an appeal act; Astana's head cannot even see it.
    refused = api_as(world.person("court_admin", "r")).post(f"/acts/{act['id']}/sign")
    assert refused.status_code == 403 and refused.json()["error"] == "not_a_required_signer"
    assert api_as(world.person("regional_head", "z")).post(
        f"/acts/{act['id']}/sign"
    ).status_code == (404)

    statuses = [api_as(p).post(f"/acts/{act['id']}/sign").json()["status"] for p in (
        head, secretary, staff)]  # fmt: skip
    assert statuses == ["pending", "pending", "complete"]
    answer = api_as(staff).get(f"/acts/{act['id']}").json()
    assert [(s["role"], s["user"]) for s in answer["signers"]] == [
        ("secretary", "secretary-r"),
        ("regional_head", "regional_head-a"),
        ("regional_staff", "regional_staff-b"),
    ]
    for language in ("kk", "ru"):
        verdicts = pdf_signatures(pdf(api_as(head), act["id"], language))
        assert [v.field for v in verdicts] == ["regional_head", "secretary", "regional_staff"]
        assert all(v.intact and v.valid for v in verdicts)


def test_r18_one_person_signs_once_even_holding_two_required_roles(world, api_as, keys):
    from taspa.courts.models import RoleAssignment

    hearing = world.hearing(
        court="r", kind="criminal", instance="appeal", new_evidence_examined=True
    )
    incident = open_incident(actor=None, hearing=hearing, kind="disk_full", detail="Disk full.")
    head = world.person("regional_head", "a")
    RoleAssignment.objects.create(user=head, role="regional_staff", court=world.courts["a"])
    keys.register(world.admin, head)
    act = draw_up(api_as(world.person("secretary", "r")), hearing, incident)
    assert api_as(head).post(f"/acts/{act['id']}/sign").json()["status"] == "pending"
    second = api_as(head).post(f"/acts/{act['id']}/sign")
    assert second.status_code == 409 and second.json()["error"] == "already_signed"


def test_r18_signer_without_a_key_is_refused_and_nothing_changes(world, api_as, first):
    hearing, incident = first
    api = api_as(world.person("secretary"))
    act = draw_up(api, hearing, incident)
    before = pdf(api, act["id"], "kk")
    answer = api.post(f"/acts/{act['id']}/sign")
    assert answer.status_code == 422 and answer.json()["error"] == "signing_key_missing"
    assert pdf(api, act["id"], "kk") == before
    assert api.get(f"/acts/{act['id']}").json()["signers"][0]["user"] is None


def test_r17_an_incident_goes_into_one_act_and_parties_never_see_acts(world, api_as, first):
    hearing, incident = first
    api = api_as(world.person("secretary"))
    act = draw_up(api, hearing, incident)
    again = api.post(f"/hearings/{hearing.pk}/acts", {"incidents": [incident.pk]})
    assert again.status_code == 409 and again.json()["error"] == "incident_already_in_act"
    judge = api_as(world.person("judge")).post(
        f"/hearings/{hearing.pk}/acts", {"incidents": [incident.pk]}
    )
    assert judge.status_code == 403
    assert api_as(world.person("participant")).get(f"/acts/{act['id']}").status_code == 404
    assert api.get(f"/acts/{act['id']}/pdf?language=en").status_code == 422


def test_r17_acts_are_numbered_per_court_and_year(world, api_as):
    api = api_as(world.person("secretary"))
    numbers = []
    for _ in range(3):
        hearing = world.hearing(court="a")
        incident = open_incident(actor=None, hearing=hearing, kind="disk_full", detail="Full.")
        numbers.append(draw_up(api, hearing, incident)["number"].split("/")[0])
    other = world.hearing(court="b")
    incident = open_incident(actor=None, hearing=other, kind="disk_full", detail="Full.")
    b_number = draw_up(api_as(world.person("secretary", "b")), other, incident)["number"]
    assert numbers == ["1", "2", "3"] and b_number.startswith("1/")


def test_r18_verify_reports_a_pending_act_and_a_tampered_one(
    world, api_as, keys, first, tmp_path, capsys
):
    hearing, incident = first
    secretary = world.person("secretary")
    keys.register(world.admin, secretary)
    api = api_as(secretary)
    act = draw_up(api, hearing, incident)
    api.post(f"/acts/{act['id']}/sign")
    pending = tmp_path / "pending.pdf"
    pending.write_bytes(pdf(api, act["id"], "ru"))
    with pytest.raises(CommandError) as failed:
        call_command("verify", str(pending))
    assert failed.value.returncode == 1
    out = capsys.readouterr().out
    assert "OK   pdf_signature[secretary]" in out and "OK   certificate_chain[secretary]" in out
    assert "FAIL act_signers" in out and "court_admin" in out

    tampered = tmp_path / "tampered.pdf"
    data = pending.read_bytes()
    position = data.rfind(b"/Reason (") + len(b"/Reason (")
    tampered.write_bytes(data[:position] + b"X" + data[position + 1 :])
    with pytest.raises(CommandError):
        call_command("verify", str(tampered))
    assert "FAIL pdf_signature[secretary]" in capsys.readouterr().out

    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"not a pdf")
    with pytest.raises(CommandError) as unreadable:
        call_command("verify", str(junk))
    assert unreadable.value.returncode == 2
