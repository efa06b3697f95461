"""A review in court goes booked → held (R28) → medium checked (R29) → receipt signed (R35), on
the staff page as through the API; the applicant's portal offers the receipt only at the end."""

from __future__ import annotations

import pytest
from django.test import Client

from taspa.access import actions
from taspa.access.models import Petition, ReviewSlot
from taspa.access.policy import ReviewStep, next_review_step, review_step_refusal
from taspa.courts.models import HearingParticipant


@pytest.mark.parametrize(
    ("step", "booked", "held", "checked", "refusal"),
    [
        (ReviewStep.HELD, False, False, False, "review_not_booked"),
        (ReviewStep.HELD, True, False, False, None),
        (ReviewStep.HELD, True, True, False, "review_already_held"),
        (ReviewStep.MEDIUM_CHECKED, True, False, False, "review_not_held"),
        (ReviewStep.MEDIUM_CHECKED, True, True, False, None),
        (ReviewStep.MEDIUM_CHECKED, True, True, True, "medium_already_checked"),
        (ReviewStep.RECEIPT, True, False, False, "review_not_held"),
        (ReviewStep.RECEIPT, True, True, False, "medium_not_checked"),
        (ReviewStep.RECEIPT, True, True, True, None),
    ],
)
def test_r29_r35_review_order_table(step, booked, held, checked, refusal):
    assert review_step_refusal(step, booked=booked, held=held, medium_checked=checked) == refusal


def test_r29_r35_next_step_offered():
    assert next_review_step(held=False, medium_checked=False) is ReviewStep.HELD
    assert next_review_step(held=True, medium_checked=False) is ReviewStep.MEDIUM_CHECKED
    assert next_review_step(held=True, medium_checked=True) is ReviewStep.RECEIPT


def _review_petition(world, participant) -> Petition:
    hearing = world.hearing(kind="civil", closed=True)
    HearingParticipant.objects.create(
        hearing=hearing, name=participant.full_name, role="plaintiff", user=participant
    )
    petition = actions.register_petition(
        actor=world.person("secretary"),
        hearing=hearing,
        kind="review",
        applicant=actions.Applicant(name="Әсел Үмбетова", role="participant", address="Алматы"),
        delivery="medium",
        personal_data_warning_acknowledged=True,
        applicant_user=participant,
    )
    return petition


def test_r28_r29_r35_staff_page_walks_the_review_in_order(world):
    participant = world.person("participant")
    petition = _review_petition(world, participant)
    staff = Client()
    staff.force_login(world.person("secretary"))
    portal = Client()
    portal.force_login(participant)
    staff.post(f"/access/petitions/{petition.pk}/fulfil", {"due": "all"})

    page = staff.get("/access/petitions/").content.decode()
    assert f'id="review-held-{petition.pk}"' in page
    assert f'id="receipt-{petition.pk}"' not in portal.get("/access/portal/").content.decode()
    early = portal.post(f"/access/portal/{petition.pk}/receipt")  # the review has not happened
    assert early.status_code == 302 and not hasattr(Petition.objects.get(pk=petition.pk), "receipt")

    staff.post(f"/access/petitions/{petition.pk}/review", {"step": "held"})
    page = staff.get("/access/petitions/").content.decode()
    assert f'id="medium-intact-{petition.pk}"' in page
    assert f'id="receipt-{petition.pk}"' not in portal.get("/access/portal/").content.decode()

    staff.post(f"/access/petitions/{petition.pk}/review", {"step": "medium_intact"})
    slot = ReviewSlot.objects.get(petition=petition)
    assert slot.held_at <= slot.medium_checked_at and slot.medium_intact is True
    assert f'id="receipt-{petition.pk}"' in portal.get("/access/portal/").content.decode()

    portal.post(f"/access/portal/{petition.pk}/receipt")
    petition.refresh_from_db()
    assert petition.state == Petition.State.CLOSED and petition.receipt.channel == "online"
    assert f"review-receipt-{petition.pk}" not in staff.get("/access/petitions/").content.decode()
