"""R20: sign-in throttling on the web login and the admin site (django-axes).

Five wrong passwords for one user name from one address lock that pair for the cool-off time:
the sixth attempt is refused even with the right password; other users sign in as usual; after
the cool-off the right password works again. API bearer tokens never go through sign-in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from taspa.api.actions import issue_token

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"


def _sign_in(client: Client, url: str, username: str, password: str):
    return client.post(url, {"username": username, "password": password, "next": "/"})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _fail(client: Client, url: str, username: str, times: int) -> list[int]:
    return [_sign_in(client, url, username, "wrong").status_code for _ in range(times)]


def test_r20_defaults_lock_user_and_address_after_five_failures_for_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "taspa.courts.signin.SignInThrottle"


def test_r20_limits_come_from_the_environment(tmp_path):
    code = (
        "from taspa import settings as s;"
        "print(s.AXES_FAILURE_LIMIT, int(s.AXES_COOLOFF_TIME.total_seconds()))"
    )
    env = os.environ | {
        "TASPA_HOME": str(tmp_path),
        "TASPA_LOGIN_FAILURE_LIMIT": "3",
        "TASPA_LOGIN_LOCKOUT_MINUTES": "60",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["3", "3600"]
    env["TASPA_LOGIN_FAILURE_LIMIT"] = "0"
    refused = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "TASPA_LOGIN_FAILURE_LIMIT" in refused.stderr


def test_r20_sixth_sign_in_is_refused_even_with_the_right_password(world):
    client = Client()
    statuses = _fail(client, LOGIN, "secretary-a", 5)
    assert statuses[:4] == [200] * 4  # the form again, with "wrong user name or password"
    assert statuses[4] == 429  # the fifth failure locks
    answer = _sign_in(client, LOGIN, "secretary-a", "pw")
    assert answer.status_code == 429
    assert not _signed_in(client)
    text = answer.content.decode()
    assert "Sign-in locked" in text and "15 min" in text


def test_r20_lock_holds_the_user_name_not_other_users(world):
    attacker = Client()
    _fail(attacker, LOGIN, "judge-a", 5)
    colleague = Client()
    answer = _sign_in(colleague, LOGIN, "secretary-a", "pw")
    assert answer.status_code == 302 and _signed_in(colleague)


def test_r20_lock_holds_the_address_not_the_same_user_elsewhere(world):
    _fail(Client(REMOTE_ADDR="10.0.0.66"), LOGIN, "judge-a", 5)
    elsewhere = Client(REMOTE_ADDR="10.0.0.7")
    assert _sign_in(elsewhere, LOGIN, "judge-a", "pw").status_code == 302
    assert _signed_in(elsewhere)


def test_r20_after_the_cool_off_the_right_password_works(world):
    client = Client()
    _fail(client, LOGIN, "secretary-a", 5)
    assert _sign_in(client, LOGIN, "secretary-a", "pw").status_code == 429
    # Let the cool-off pass: the failures were made 16 minutes ago.
    past = timedelta(minutes=16)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - past)
    assert _sign_in(client, LOGIN, "secretary-a", "pw").status_code == 302
    assert _signed_in(client)


def test_r20_a_successful_sign_in_resets_the_count(world):
    client = Client()
    _fail(client, LOGIN, "secretary-a", 4)
    assert _sign_in(client, LOGIN, "secretary-a", "pw").status_code == 302
    client.logout()
    assert _fail(client, LOGIN, "secretary-a", 4) == [200] * 4


def test_r20_admin_site_sign_in_is_throttled_too(world):
    client = Client()
    _fail(client, ADMIN_LOGIN, "root", 5)
    answer = _sign_in(client, ADMIN_LOGIN, "root", "pw")
    assert answer.status_code == 429
    assert not _signed_in(client)
    # The web login shares the count: the same pair is locked there too.
    assert _sign_in(client, LOGIN, "root", "pw").status_code == 429


def test_r20_lockout_page_is_translated(world):
    client = Client(HTTP_ACCEPT_LANGUAGE="ru")
    _fail(client, LOGIN, "secretary-a", 5)
    answer = client.post(LOGIN, {"username": "secretary-a", "password": "pw"})
    assert answer.status_code == 429
    assert 'lang="ru"' in answer.content.decode()


def test_r20_bearer_tokens_are_not_throttled_by_sign_in_failures(world):
    """A locked web sign-in does not lock the user's API token, and the API never counts as a
    sign-in attempt (tokens are checked by digest, not by password)."""
    secretary = world.person("secretary")
    token = issue_token(actor=None, user=secretary)
    _fail(Client(), LOGIN, "secretary-a", 5)
    api = Client()
    for _ in range(8):
        answer = api.get("/api/v1/hearings", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
    for _ in range(8):
        answer = api.get("/api/v1/hearings", headers={"Authorization": "Bearer tsp_wrong"})
        assert answer.status_code == 401
    assert not AccessAttempt.objects.exclude(username="secretary-a").exists()
