"""The regional judicial administration's whole job in Chromium (issue 16): its staff member
reads the notice the court administrator forwarded (R9) and marks it read, signs an appeal
act with the registered key (R18), sees the replication from the region's courts with the
reason of a failed transfer in words (R23); the regional head signs the act too and it shows as
signed by everyone. Screenshots at 1366×768 and 390 px; at 390 px nothing scrolls sideways."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

STAFF = "Марат Ерланұлы Жақсылықов"
HEAD = "Сәуле Бекқызы Омарова"

# The region's appeal court with its secretary and an appeal hearing whose recording was
# impossible (R17: the act is drawn up by itself, the secretary has signed it); the regional
# staff and head with EDS keys from the demo CA; an incident of the demo court forwarded by its
# administrator (R9); and one recording whose transfer to the regional server broke (R23).
SETUP = """
from datetime import timedelta
from pathlib import Path
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings
from django.utils import timezone
from taspa.courts import actions as ca
from taspa.courts.actions import RoleGrant
from taspa.courts.models import Court, Hearing, User
from taspa.incidents import acts
from taspa.incidents.actions import forward_incident, notify_court_admins, open_incident
from taspa.replication.court import plan
from taspa.replication.models import Outgoing
from taspa.sealing import democa
from taspa.sealing.actions import current_key, register_signing_key

admin = User.objects.get(username='admin')
district = Court.objects.get(code='almaty-bostandyk')
raw = (Path(settings.TASPA_HOME) / 'demo' / 'ca.p12').read_bytes()
key, cert, _ = pkcs12.load_key_and_certificates(raw, b'demo')
demo_ca = democa.DemoCA(key=key, certificate=cert)

def person(username, full_name, role, court):
    user = User.objects.filter(username=username).first() or ca.create_user(
        actor=admin, username=username, full_name=full_name,
        roles=[RoleGrant(role=role, court=court)], password='demo')
    if current_key(user) is None:
        p12 = democa.issue_p12(demo_ca, common_name=full_name, password='demo')
        register_signing_key(actor=admin, user=user, p12=p12, password='demo')
    return user

appeal = Court.objects.filter(code='almaty-city').first() or ca.create_court(
    actor=admin, code='almaty-city', name='Алматы қалалық соты', level='regional', region='Алматы')
person('regional_staff', 'STAFF', 'regional_staff', district)
person('regional_head', 'HEAD', 'regional_head', district)
clerk = person('appeal_secretary', 'Дина Асқарқызы Сейітова', 'secretary', appeal)
judge = person('appeal_judge', 'Нұрлан Қайратұлы Әбенов', 'judge', appeal)
room = appeal.courtrooms.first() or ca.create_courtroom(
    actor=admin, court=appeal, name='Зал №5',
    sources=[{'kind': 'audio', 'format': 'lavfi', 'input': 'sine=frequency=440', 'label': 'Судья'}])
case = appeal.cases.first() or ca.register_case(
    actor=admin, court=appeal, number='7599-26-00-2а/55', kind='criminal', language='kk')
hearing = ca.schedule_hearing(
    actor=admin, case=case, courtroom=room, instance='appeal', closed=False, judge=judge,
    secretary=clerk, scheduled_at=timezone.now() - timedelta(hours=2),
    participants=[{'name': 'Бекзат Маратұлы Исаев', 'role': 'сотталған'}],
    circumstances={'new_evidence_examined': True})
Hearing.objects.filter(pk=hearing.pk).update(state='stopped')
open_incident(actor=None, hearing=hearing, kind='recording_impossible',
              detail='Залдағы компьютер іске қосылмады, жазу мүмкін болмады.')
act = acts.draft_pending_act(hearing=Hearing.objects.get(pk=hearing.pk))
acts.sign_act(actor=clerk, act=act)
demo = Hearing.objects.filter(case__court=district).order_by('pk').first()
first = ca.schedule_hearing(
    actor=admin, case=demo.case, courtroom=demo.courtroom, instance='first', closed=False,
    judge=demo.judge, secretary=demo.secretary, scheduled_at=timezone.now() - timedelta(hours=1),
    participants=[{'name': 'Дәулет Ғалымұлы Үсенов', 'role': 'талапкер'}])
incident = open_incident(actor=None, hearing=first, kind='source_lost',
                         detail='Екінші микрофон 10:42-де сөнді, 10:47-де қалпына келтірілді.')
notify_court_admins(hearing=first)
sent = forward_incident(actor=User.objects.get(username='court_admin'), incident=incident,
                        note='Жабдықты тексеру сұралады')
plan()
row = Outgoing.objects.order_by('pk').first()
Outgoing.objects.filter(pk=row.pk).update(
    state='failed', attempts=2, last_error='0 transfer_broken: PUT /x: [Errno 104] reset')
print('ACT', act.pk, 'NOTICE', sent[0].pk, 'RECORDING', row.recording_id)
""".replace("'STAFF'", repr(STAFF)).replace("'HEAD'", repr(HEAD))


def sign_act(page, act: int) -> None:
    page.locator(f"#to-sign #act-{act}").get_by_role("button", name="Өз кілтіммен қол қою").click()
    page.wait_for_selector(".messages .notice")


def test_regional_staff_reads_the_notice_signs_the_appeal_act_and_sees_replication(
    page, server, sign_in, screenshots, fits_phone, taspa_cli
):
    out = taspa_cli(server.home, "shell", "-c", SETUP).split()
    act, notice, recording = (int(out[out.index(k) + 1]) for k in ("ACT", "NOTICE", "RECORDING"))

    sign_in("regional_staff")
    page.get_by_role("link", name="Сот әкімшілігі департаментінің бөлімшесі").click()
    page.wait_for_url("**/regional/")
    item = page.locator(f"#notice-{notice}")
    assert "Жабдықты тексеру сұралады" in item.inner_text()  # the administrator's note (R9)
    assert "Дыбыс (бейне) көзі жоғалды" in item.inner_text()
    item.get_by_role("button", name="Оқылды деп белгілеу").click()
    page.wait_for_selector(f"#notice-{notice} .ok")
    assert "Оқылды" in page.inner_text(f"#notice-{notice}")

    row = page.locator(f"#to-sign #act-{act}")
    assert "Дина Асқарқызы Сейітова" in row.inner_text()  # the secretary signed already
    page.screenshot(path=str(screenshots / "regional-staff.png"), full_page=True)
    sign_act(page, act)
    assert page.url.endswith(f"/regional/#act-{act}")
    waiting = page.locator(f"#waiting #act-{act}").inner_text()
    assert STAFF in waiting and "қол қойылмаған" in waiting  # the head has still to sign
    fits_phone("/regional/", "regional-staff")

    page.goto("/regional/replication")
    failed = page.locator(f"#recording-{recording}").inner_text()
    assert "Жіберу кезінде өңірлік сервермен байланыс үзілді" in failed
    assert "Errno" not in page.inner_text("main") and "transfer_broken" not in failed
    page.screenshot(path=str(screenshots / "regional-replication.png"), full_page=True)
    fits_phone("/regional/replication", "regional-replication")

    # The regional head signs as well: every signature is in (R18).
    page.context.clear_cookies()
    sign_in("regional_head")
    page.goto("/regional/")
    sign_act(page, act)
    done = page.locator(f"#complete #act-{act}").inner_text()
    assert "барлығы қол қойды" in done and STAFF in done and HEAD in done
    page.screenshot(path=str(screenshots / "regional-head.png"), full_page=True)
    fits_phone("/regional/", "regional-head")
