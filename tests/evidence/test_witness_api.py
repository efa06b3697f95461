"""Issue 15 item 4, the centre's witness endpoints in process: only an enrolled court server
may use them, bad input is a 4xx in the contract's shape, and the receipt verifies."""

from __future__ import annotations

import pytest
from django.test import Client

from taspa.api.actions import user_for_token
from taspa.evidence.witness import check_receipt
from taspa.replication.central import enrol_court
from taspa.replication.models import Alarm

HEAD = {"seq": 7, "hash": "ab" * 32, "roots": [{"tree": 3, "day": "2026-12-01", "root": "cd" * 32}]}


def post(token: str, body) -> tuple[int, dict]:
    answer = Client().post(
        "/api/v1/replication/witness",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    return answer.status_code, answer.json()


@pytest.fixture
def centre(world, settings, tmp_path):
    settings.TASPA_ROLE = "central"
    settings.TASPA_HOME = tmp_path
    return enrol_court(actor=None, court=world.courts["a"])


def test_r20_witness_endpoints_are_for_enrolled_court_servers_only(world, api_as, centre):
    judge = api_as(world.person("judge", "a"))
    answer = judge.post("/replication/witness", HEAD)
    assert answer.status_code == 403 and answer.json()["error"] == "not_a_peer"
    assert judge.get("/replication/witness").status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {**HEAD, "hash": "zz" * 32},
        {**HEAD, "seq": -1},
        {**HEAD, "roots": [{"tree": 3, "day": "yesterday", "root": "cd" * 32}]},
        {**HEAD, "roots": [{"tree": 2**70, "day": "2026-12-01", "root": "cd" * 32}]},
        {**HEAD, "roots": [{"tree": 3, "day": "2026-12-01", "root": "not hex"}]},
        {**HEAD, "roots": ["a string"]},
    ],
)
def test_r20_malformed_heads_and_roots_are_422(centre, body):
    status, answer = post(centre, body)
    assert status in (400, 422) and set(answer) >= {"error", "detail"}, answer


def test_r19_receipt_verifies_and_a_head_going_back_alarms(world, centre):
    status, answer = post(centre, HEAD)
    assert status == 200, answer
    sent = {"seq": 7, "hash": HEAD["hash"], "roots": HEAD["roots"]}
    assert check_receipt(answer, sent)["court"] == "court-a"
    assert user_for_token(centre) is not None
    status, again = post(centre, {**HEAD, "seq": 5, "hash": "ef" * 32, "roots": []})
    assert status == 200 and "went back from #7 to #5" in again["receipt"]["alarm"]
    assert Alarm.objects.get(kind="rewound").court == world.courts["a"]
    witnessed = (
        Client()
        .get("/api/v1/replication/witness", headers={"Authorization": f"Bearer {centre}"})
        .json()
    )
    assert [h["seq"] for h in witnessed["heads"]] == [7]
    assert witnessed["roots"] == [{"tree": 3, "day": "2026-12-01", "root": "cd" * 32}]
