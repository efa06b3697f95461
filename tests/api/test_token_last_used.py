"""A bearer token's ``last_used_at`` is written at most once a minute: a busy client's requests
stay reads (issue #9)."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from taspa.api.actions import issue_token, user_for_token
from taspa.api.models import ApiToken


def _writes(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return sum(q["sql"].lstrip().upper().startswith("UPDATE") for q in captured.captured_queries)


def test_last_used_at_is_written_at_most_once_a_minute(world):
    user = world.person("secretary")
    token = issue_token(actor=None, user=user)
    assert _writes(lambda: user_for_token(token)) == 1  # first use
    first = ApiToken.objects.get(user=user).last_used_at
    assert first is not None
    assert _writes(lambda: user_for_token(token)) == 0  # within the minute: a read only
    assert ApiToken.objects.get(user=user).last_used_at == first
    ApiToken.objects.filter(user=user).update(last_used_at=first - timedelta(seconds=61))
    assert user_for_token(token) == user
    assert ApiToken.objects.get(user=user).last_used_at >= timezone.now() - timedelta(seconds=5)


def test_api_requests_within_a_minute_write_nothing(world, api_as):
    client = api_as(world.person("secretary"))
    client.get("/hearings")
    assert _writes(lambda: client.get("/hearings")) == 0
