"""Operations endpoints (CONTRACT.md): liveness, readiness naming what is down, Prometheus
metrics, and one structured log line per request."""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client.parser import text_string_to_metric_families

from taspa.api.actions import issue_token

from .proc import free_port

CONTRACT_METRICS = {
    "taspa_recordings_in_progress",
    "taspa_captured_seconds",
    "taspa_capture_gaps",
    "taspa_seal_failures",
    "taspa_fixity_failures",
    "taspa_replication_backlog",
    "taspa_replication_backlog_age_seconds",
    "taspa_job_queue_depth",
    "taspa_request_duration_seconds",
}


@pytest.mark.django_db
def test_healthz_answers_ok_without_a_token(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_has_one_entry_per_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "blob_store", "spool"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_is_503_naming_the_blob_store_when_s3_is_unreachable(client, settings, monkeypatch):
    # Nothing listens on this port: the S3 endpoint is down.
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    settings.TASPA_STORAGE = "s3://taspa-unreachable"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["blob_store"]
    assert body["error"] == "not_ready"
    assert "blob_store is down" in body["detail"]
    assert body["checks"]["database"]["ok"] and body["checks"]["spool"]["ok"]


@pytest.mark.django_db
def test_readyz_names_the_spool_when_it_cannot_be_written(client, settings, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the spool should be")
    settings.TASPA_SPOOL = blocked
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["down"] == ["spool"]


@pytest.mark.django_db
def test_metrics_parse_as_prometheus_text_and_list_the_contract_metrics(client, world):
    client.get("/healthz")  # at least one observed request
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.content.decode())}
    assert families.keys() >= CONTRACT_METRICS
    assert families["taspa_request_duration_seconds"].type == "histogram"
    in_progress = families["taspa_recordings_in_progress"].samples[0]
    assert in_progress.value == 0


@pytest.mark.django_db
def test_one_log_line_per_request_without_query_or_token(client, world, caplog):
    admin = world.person("court_admin")
    token = issue_token(actor=None, user=admin)
    with caplog.at_level(logging.INFO, logger="taspa.requests"):
        client.get(
            "/api/v1/hearings?token=do-not-log-me",
            headers={"Authorization": f"Bearer {token}"},
        )
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "taspa.requests"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET" and line["path"] == "/api/v1/hearings"
    assert line["status"] == 200 and line["user"] == admin.pk
    assert isinstance(line["duration_ms"], float)
    text = caplog.text
    assert "do-not-log-me" not in text and token not in text


@pytest.mark.django_db
def test_every_page_carries_a_strict_content_security_policy(client):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
