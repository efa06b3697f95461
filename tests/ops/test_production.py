"""A court puts Taspa into service: production settings (TASPA_HTTPS) pass Django's deployment
checks, wrong ones stop the start naming the variable, and ``taspa createsuperuser`` makes a
system administrator who can use the API and the web at once."""

from __future__ import annotations

import http.cookiejar
import json
import re
import secrets
import urllib.parse
import urllib.request

import pytest

from .proc import free_port, operator_env, start, taspa, wait_http

pytestmark = pytest.mark.slow


def production_env(home, **extra):
    return operator_env(
        home,
        TASPA_HTTPS="true",
        TASPA_SECRET_KEY=secrets.token_urlsafe(50),
        TASPA_ALLOWED_HOSTS="taspa.court.kz,127.0.0.1",
        **extra,
    )


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = taspa(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("drop", "named"),
    [
        ("TASPA_SECRET_KEY", "TASPA_SECRET_KEY"),
        ("TASPA_ALLOWED_HOSTS", "TASPA_ALLOWED_HOSTS"),
    ],
)
def test_production_without_a_required_setting_refuses_to_start(tmp_path, drop, named):
    env = production_env(tmp_path)
    del env[drop]
    result = taspa(env, "check")
    assert result.returncode == 2
    assert named in result.stderr and "Traceback" not in result.stderr
    # Nothing was made up in its place: no secret key file appeared.
    assert not (tmp_path / "secret_key").exists()


def test_production_refuses_debug(tmp_path):
    result = taspa(production_env(tmp_path, TASPA_DEBUG="true"), "check")
    assert result.returncode == 2 and "TASPA_DEBUG" in result.stderr


def test_https_headers_behind_the_proxy(tmp_path):
    port = free_port()
    env = production_env(tmp_path)
    assert taspa(env, "migrate", "-v0").returncode == 0
    server = start(env, "serve", "--no-worker", "--addr", f"127.0.0.1:{port}", log=tmp_path / "log")
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")  # probes are not redirected
        plain = urllib.request.Request(
            f"http://127.0.0.1:{port}/login/", headers={"Host": "taspa.court.kz"}
        )
        opener = urllib.request.build_opener(_NoRedirect)
        with pytest.raises(urllib.error.HTTPError) as redirect:
            opener.open(plain)
        assert redirect.value.code == 301
        assert redirect.value.headers["Location"] == "https://taspa.court.kz/login/"
        proxied = urllib.request.Request(
            f"http://127.0.0.1:{port}/login/",
            headers={"Host": "taspa.court.kz", "X-Forwarded-Proto": "https"},
        )
        with opener.open(proxied) as page:
            assert page.status == 200
            assert "max-age=31536000" in page.headers["Strict-Transport-Security"]
            assert "default-src 'none'" in page.headers["Content-Security-Policy"]
            cookies = page.headers.get_all("Set-Cookie")
            assert any(c.startswith("csrftoken=") and "Secure" in c for c in cookies)
    finally:
        server.terminate()
        server.wait(30)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_createsuperuser_makes_a_system_admin_for_the_api_and_the_web(tmp_path):
    env = operator_env(tmp_path, DJANGO_SUPERUSER_PASSWORD="first-admin-Passw0rd")
    assert taspa(env, "migrate", "-v0").returncode == 0
    made = taspa(env, "createsuperuser", "--noinput", "--username", "it", "--email", "it@c.kz")
    assert made.returncode == 0, made.stderr
    assert "system administrator" in made.stdout
    token = taspa(env, "token", "create", "--user", "it").stdout.strip()
    port = free_port()
    server = start(env, "serve", "--no-worker", "--addr", f"127.0.0.1:{port}", log=tmp_path / "log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz")
        court = urllib.request.Request(  # noqa: S310 - loopback http
            f"{base}/api/v1/courts",
            data=json.dumps(
                {
                    "code": "ast-01",
                    "name": "Astana district court 1",
                    "level": "district",
                    "region": "Astana",
                }
            ).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(court) as answer:  # noqa: S310
            assert answer.status == 201 and "id" in json.load(answer)
        # The web, as the same person: sign in and open the dashboard.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with browser.open(f"{base}/login/") as page:
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode())
        form = urllib.parse.urlencode(
            {
                "username": "it",
                "password": "first-admin-Passw0rd",
                "csrfmiddlewaretoken": csrf.group(1),
            }
        ).encode()
        with browser.open(f"{base}/login/", data=form) as signed_in:
            assert signed_in.status == 200 and "/login/" not in signed_in.url
        with browser.open(f"{base}/dashboard/") as dashboard:
            assert dashboard.status == 200
            assert "ast-01" in dashboard.read().decode()
    finally:
        server.terminate()
        server.wait(30)
