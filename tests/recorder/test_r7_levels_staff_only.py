"""R7, R11: the live levels are the console's, and the console is court staff's. A party to
the hearing (linked to its case) sees the hearing on the portal but gets the console's 404 for
its levels, as a stream and as a snapshot; the hearing's secretary gets them."""

import pytest

from taspa.access.actions import link_case_party
from taspa.courts import actions as court_actions
from taspa.courts.actions import RoleGrant
from taspa.courts.policy import Role

pytestmark = pytest.mark.django_db


def test_r7_party_gets_no_levels(world, api_as):
    hearing = world.hearing(court="a")
    party = court_actions.create_user(
        actor=world.admin,
        username="party-levels",
        full_name="Party of court A",
        roles=[RoleGrant(role=Role.PARTICIPANT.value, court=world.courts["a"])],
        password="pw",
    )
    link_case_party(actor=world.admin, case=hearing.case, user=party, role="participant")
    as_party = api_as(party)
    assert as_party.get(f"/hearings/{hearing.pk}").status_code == 200  # the party sees it
    for path in ("/levels", "/levels/stream?seconds=0"):
        refused = as_party.get(f"/hearings/{hearing.pk}{path}")
        assert refused.status_code == 404, path
        assert refused.json()["error"] == "not_found"
        staff = api_as(world.person("secretary")).get(f"/hearings/{hearing.pk}{path}")
        assert staff.status_code == 200, path
