"""Schemathesis over the OpenAPI document (R20): every operation, fuzzed with an authenticated
user of every role, answers without a server error and within its documented schema.

The document is the API's own (``/api/v1/openapi.json``), loaded in process; requests go to
the Django app through WSGI inside the test's database transaction. Path ids are either
generated or the ids of the scene's real objects, so the fuzzing reaches past the 404s into
the handlers. Bounded and deterministic: ``EXAMPLES`` per operation and actor, derandomized.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance

from security.scene import Scene
from taspa.api.api import api

EXAMPLES = 8
FUZZ_ACTORS = [
    "secretary@own",
    "judge@own",
    "court_admin@own",
    "archivist@own",
    "regional_staff@own",
    "regional_head@own",
    "participant@own",
    "representative@own",
    "system_admin",
    "party",
    "agent@own",
]
# Server-sent events are served as an asynchronous stream, which only an ASGI server (taspa
# serve) consumes; the matrix covers who may open it.
SKIPPED = {("GET", "/api/v1/hearings/{hearing_id}/levels/stream")}


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    """Django's WSGI handler, with the test's database connection kept open across requests
    (as django.test.Client does)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _known_ids(s: Scene) -> dict[str, int | str]:
    return {
        "hearing_id": s.hearing.pk,
        "recording_id": s.recording.pk,
        "courtroom_id": s.room.pk,
        "court_id": s.court.pk,
        "case_id": s.case.pk,
        "user_id": s.users["secretary@own"].pk,
        "mark_id": s.mark.pk,
        "incident_id": s.incident.pk,
        "notification_id": s.notification.pk,
        "act_id": s.act.pk,
        "medium_id": s.medium.pk,
        "petition_id": s.copy_petition.pk,
        "copy_id": s.copy.pk,
        "replica_id": 1,
        "which": "media",
        "kind": "media",
    }


def _strategy(operation, known: dict) -> st.SearchStrategy:
    names = [p.name for p in operation.path_parameters]
    fixed = {name: known[name] for name in names if name in known}
    if not fixed:
        return operation.as_strategy()
    return st.one_of(operation.as_strategy(), operation.as_strategy(path_parameters=fixed))


def _fuzz(operation, strategy, app, headers: dict[str, str], found: list[str]) -> int:
    calls = 0

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case):
        nonlocal calls
        calls += 1
        response = case.call(app=app, headers=headers)
        try:
            case.validate_response(
                response, checks=[not_a_server_error, response_schema_conformance]
            )
        except FailureGroup as failures:
            for failure in failures.exceptions:
                found.append(
                    f"{operation.label} {response.status_code}: {failure.title} "
                    f"(path {case.path_parameters}, query {case.query}, body {case.body!r:.200})"
                )

    run()
    return calls


SCHEMA = schemathesis.openapi.from_dict(api.get_openapi_schema())


@pytest.mark.slow
@pytest.mark.parametrize("actor", FUZZ_ACTORS)
def test_r20_fuzzed_api_gives_no_server_error_and_keeps_its_schema(
    scene: Scene, wsgi_app, actor: str
):
    headers = {"Authorization": f"Bearer {scene.tokens[actor]}"}
    known = _known_ids(scene)
    found: list[str] = []
    calls = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        for result in SCHEMA.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            calls += _fuzz(operation, _strategy(operation, known), wsgi_app, headers, found)
    assert calls >= EXAMPLES * 40
    assert found == []
