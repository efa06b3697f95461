"""GET /recordings: raw recordings for court staff only, paged by a keyset that covers every
recording once (R28: parties reach recordings through a petition, never this list)."""

from django.utils import timezone

from taspa.courts.models import HearingParticipant
from taspa.recorder.models import Recording


def _recording(world, court: str) -> Recording:
    hearing = world.hearing(court=court)
    return Recording.objects.create(
        hearing=hearing,
        state=Recording.State.SEALED,
        spool_dir="",
        started_at=timezone.now(),
        file_name=f"h{hearing.pk}.ts",
    )


def _all_pages(client, query: str) -> list[int]:
    seen, after = [], 0
    while True:
        page = client.get(f"/recordings?{query}&limit=2&after={after}").json()
        seen += [item["id"] for item in page["items"]]
        if page["next"] is None:
            return seen
        after = page["next"]


def test_keyset_pages_cover_each_recording_of_the_court_once(world, api_as):
    mine = [_recording(world, "a") for _ in range(5)]
    _recording(world, "b")
    client = api_as(world.person("secretary", "a"))
    assert _all_pages(client, "court=court-a") == [r.pk for r in mine]
    assert _all_pages(client, "") == [r.pk for r in mine]  # the court scope alone
    case = mine[2].hearing.case_id
    assert _all_pages(client, f"case={case}") == [mine[2].pk]


def test_r28_recordings_list_is_scoped_like_the_hearings_and_staff_only(world, api_as):
    in_a, in_b, in_z = _recording(world, "a"), _recording(world, "b"), _recording(world, "z")
    party = world.person("participant", "a")
    HearingParticipant.objects.create(hearing=in_a.hearing, name="P", role="witness", user=party)
    expected = {
        world.person("secretary", "a"): [in_a.pk],
        world.person("regional_head", "a"): [in_a.pk, in_b.pk],  # the Almaty region
        world.person("secretary", "z"): [in_z.pk],
        world.admin: [in_a.pk, in_b.pk, in_z.pk],
        party: [],  # a participant sees the hearing, not its raw recording
    }
    for user, ids in expected.items():
        assert _all_pages(api_as(user), "") == ids, user.username
    assert _all_pages(api_as(world.person("secretary", "z")), "court=court-a") == []
