"""The hearing lists: each visible hearing once, newest first, whatever ways a user sees it."""

from datetime import timedelta

from django.utils import timezone

from taspa.access.actions import link_case_party
from taspa.courts.actions import RoleGrant, create_user
from taspa.courts.models import Hearing, HearingParticipant
from taspa.courts.selectors import visible_hearings


def _staff_and_party(world):
    """A secretary of court A who is also a participant there (R28 and R7 at once)."""
    return create_user(
        actor=world.admin,
        username="secretary-and-party",
        full_name="Both",
        roles=[
            RoleGrant(role="secretary", court=world.courts["a"]),
            RoleGrant(role="participant", court=world.courts["a"]),
        ],
    )


def test_r28_a_hearing_seen_as_staff_and_twice_as_party_comes_once(world, api_as):
    user = _staff_and_party(world)
    hearing, other, elsewhere = world.hearing("a"), world.hearing("a"), world.hearing("z")
    for role in ("witness", "plaintiff"):  # named twice in one hearing
        HearingParticipant.objects.create(hearing=hearing, name="Both", role=role, user=user)
    HearingParticipant.objects.create(hearing=elsewhere, name="Both", role="witness", user=user)
    link_case_party(actor=world.admin, case=hearing.case, user=user, role="participant")

    ids = list(visible_hearings(user).values_list("pk", flat=True))
    assert sorted(ids) == sorted([hearing.pk, other.pk, elsewhere.pk])
    assert visible_hearings(user).count() == 3
    listed = [h["id"] for h in api_as(user).get("/hearings").json()["items"]]
    assert sorted(listed) == sorted(ids)


def test_r28_party_sees_its_hearings_in_any_court_but_no_raw_recordings(world):
    party = world.person("participant", "a")
    named, linked, unrelated = world.hearing("z"), world.hearing("a"), world.hearing("a")
    HearingParticipant.objects.create(hearing=named, name="P", role="witness", user=party)
    link_case_party(actor=world.admin, case=linked.case, user=party, role="participant")
    assert set(visible_hearings(party).values_list("pk", flat=True)) == {named.pk, linked.pk}
    assert unrelated.pk not in visible_hearings(party).values_list("pk", flat=True)
    assert not visible_hearings(party, as_party=False).exists()


def test_hearing_list_is_newest_first_and_ties_go_by_id(world, api_as):
    now = timezone.now()
    older, tie_a, tie_b = world.hearing("a"), world.hearing("a"), world.hearing("a")
    Hearing.objects.filter(pk=older.pk).update(scheduled_at=now - timedelta(days=1))
    Hearing.objects.filter(pk__in=[tie_a.pk, tie_b.pk]).update(scheduled_at=now)
    listed = api_as(world.person("secretary")).get("/hearings?limit=3").json()["items"]
    assert [h["id"] for h in listed] == [tie_b.pk, tie_a.pk, older.pk]
