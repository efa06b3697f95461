"""The role matrix: every role × action × own court / same-region court / other-region court.

The expected table is written out here, independently of ``policy.ROLES_FOR_ACTION``, so a change
to who may do what has to be made twice on purpose.
"""

import pytest

from taspa.courts.models import HearingParticipant
from taspa.courts.permissions import allowed
from taspa.courts.policy import Action

OWN, REGION, OTHER = "a", "b", "z"  # court a is the user's; b shares the region; z does not

# role → action → set of target courts where it is allowed
EXPECTED = {
    # R7: not even a system administrator operates a hearing's recorder.
    "system_admin": {
        **{a: {OWN, REGION, OTHER} for a in Action},
        Action.OPERATE_RECORDER: set(),
    },
    "court_admin": {
        Action.MANAGE_COURTS: set(),
        Action.MANAGE_USERS: {OWN},
        Action.MANAGE_COURTROOMS: {OWN},
        Action.REGISTER_CASE: {OWN},
        Action.SCHEDULE_HEARING: {OWN},
        Action.VIEW_HEARING: {OWN},
        Action.VERIFY_AUDIT: {OWN},
        Action.OPERATE_RECORDER: set(),
        Action.MANAGE_RETENTION: {OWN},
        Action.HANDLE_PETITIONS: {OWN},
    },
    "secretary": {
        Action.MANAGE_COURTS: set(),
        Action.MANAGE_USERS: set(),
        Action.MANAGE_COURTROOMS: set(),
        Action.REGISTER_CASE: {OWN},
        Action.SCHEDULE_HEARING: {OWN},
        Action.VIEW_HEARING: {OWN},
        Action.VERIFY_AUDIT: set(),
        Action.OPERATE_RECORDER: {OWN},  # secretary-a is the secretary of the court-a hearing
        Action.MANAGE_RETENTION: set(),
        Action.HANDLE_PETITIONS: {OWN},
    },
    "judge": {
        Action.MANAGE_COURTS: set(),
        Action.MANAGE_USERS: set(),
        Action.MANAGE_COURTROOMS: set(),
        Action.REGISTER_CASE: {OWN},
        Action.SCHEDULE_HEARING: {OWN},
        Action.VIEW_HEARING: {OWN},
        Action.VERIFY_AUDIT: set(),
        Action.OPERATE_RECORDER: set(),
        Action.MANAGE_RETENTION: {OWN},
        Action.HANDLE_PETITIONS: {OWN},
    },
    "archivist": {
        **{a: set() for a in Action},
        Action.VIEW_HEARING: {OWN},
        Action.MANAGE_RETENTION: {OWN},
    },
    "regional_staff": {
        **{a: set() for a in Action},
        Action.VIEW_HEARING: {OWN, REGION},
    },
    "regional_head": {
        **{a: set() for a in Action},
        Action.VIEW_HEARING: {OWN, REGION},
    },
    # Parties see only hearings they take part in (checked below), never by court.
    "participant": {a: set() for a in Action},
    "representative": {a: set() for a in Action},
}


@pytest.fixture
def hearings(world):
    return {key: world.hearing(court=key) for key in (OWN, REGION, OTHER)}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_role_matrix(world, hearings, role):
    """One test per role walks every action × target court and lists every wrong cell."""
    user = world.admin if role == "system_admin" else world.person(role, OWN)
    wrong = []
    for action in Action:
        for target in (OWN, REGION, OTHER):
            hearing_action = action in (Action.VIEW_HEARING, Action.OPERATE_RECORDER)
            obj = hearings[target] if hearing_action else world.courts[target]
            if action == Action.MANAGE_COURTS:
                obj = None
            answer = allowed(user, action, obj)
            if answer != (target in EXPECTED[role][action]):
                wrong.append(f"{action.value}@{target}: allowed={answer}")
    assert wrong == []


def test_matrix_covers_every_role_and_action():
    from taspa.courts.policy import Role

    assert set(EXPECTED) == {role.value for role in Role}
    assert all(set(actions) == set(Action) for actions in EXPECTED.values())


@pytest.mark.parametrize("role", ["participant", "representative"])
def test_party_sees_only_hearings_they_take_part_in(world, hearings, role):
    party = world.person(role, OWN)
    HearingParticipant.objects.create(
        hearing=hearings[OTHER], name=str(party), role="plaintiff", user=party
    )
    assert allowed(party, Action.VIEW_HEARING, hearings[OTHER])
    assert not allowed(party, Action.VIEW_HEARING, hearings[OWN])


def test_inactive_user_may_do_nothing(world, hearings):
    secretary = world.person("secretary", OWN)
    secretary.is_active = False
    secretary.save()
    assert not allowed(secretary, Action.VIEW_HEARING, hearings[OWN])


def test_r7_only_the_hearings_own_secretary_or_stand_in_operates(world, hearings):
    from taspa.courts.actions import RoleGrant, assign_stand_in, create_user

    hearing = hearings[OWN]
    colleague = create_user(
        actor=world.admin,
        username="second-secretary",
        full_name="Second",
        roles=[RoleGrant(role="secretary", court=world.courts[OWN])],
    )
    assert not allowed(colleague, Action.OPERATE_RECORDER, hearing)
    assign_stand_in(actor=world.person("court_admin"), hearing=hearing, secretary=colleague)
    colleague = type(colleague).objects.get(pk=colleague.pk)
    assert allowed(colleague, Action.OPERATE_RECORDER, hearing)
    assert allowed(world.person("secretary"), Action.OPERATE_RECORDER, hearing)
    assert not allowed(world.person("judge"), Action.OPERATE_RECORDER, hearing)


def test_r28_party_linked_to_the_case_sees_its_hearings_but_not_raw_recordings(world, hearings):
    from taspa.access.actions import link_case_party
    from taspa.courts.selectors import visible_hearings

    party = world.person("participant", OWN)
    hearing = hearings[OWN]
    assert not visible_hearings(party).filter(pk=hearing.pk).exists()
    link_case_party(actor=world.admin, case=hearing.case, user=party, role="participant")
    assert visible_hearings(party).filter(pk=hearing.pk).exists()
    assert not visible_hearings(party, as_party=False).filter(pk=hearing.pk).exists()
