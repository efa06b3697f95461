"""Prometheus metrics (``prometheus_client``): what each process counts itself, and what the
database says at scrape time (CONTRACT.md's ``taspa_*`` list).

With ``PROMETHEUS_MULTIPROC_DIR`` set (before the processes start; the directory emptied at
each start of the whole set), every web and worker process writes its counters there and any
process's ``/metrics`` answers for all of them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REQUEST_SECONDS = Histogram(
    "taspa_request_duration_seconds",
    "Time from a request's arrival to its response's start, by URL pattern.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
JOBS = Counter(
    "taspa_jobs_total",
    "Background jobs run by this set of processes, by task and outcome.",
    ["task", "outcome"],
)


class DatabaseCollector(Collector):
    """Gauges and totals read from the database when Prometheus scrapes."""

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database (it may not exist yet)

    def collect(self) -> Iterator[Metric]:
        from taspa.ops import selectors

        figures = selectors.figures()
        yield _gauge(
            "taspa_recordings_in_progress",
            "Recordings being captured now.",
            figures.recordings_in_progress,
        )
        yield _counter(
            "taspa_captured_seconds",
            "Seconds of hearings captured in recordings that have stopped.",
            figures.captured_seconds,
        )
        yield _counter(
            "taspa_capture_gaps",
            "Breaks in the record (R6) reported as capture_gap incidents.",
            figures.capture_gaps,
        )
        yield _counter(
            "taspa_seal_failures",
            "Recordings that could not be signed automatically (signing_failed incidents).",
            figures.seal_failures,
        )
        yield _counter(
            "taspa_fixity_failures",
            "Stored recordings that no longer matched their hash (fixity_failed incidents).",
            figures.fixity_failures,
        )
        yield _gauge(
            "taspa_replication_backlog",
            "Recordings with changes the regional centre has not acknowledged.",
            figures.replication_backlog,
        )
        yield _gauge(
            "taspa_replication_backlog_age_seconds",
            "Age of the oldest change not yet acknowledged by the centre (0 when none).",
            figures.replication_backlog_age_s,
        )
        yield _gauge(
            "taspa_replication_last_success_age_seconds",
            "Seconds since the last replication run that failed nothing (-1: never).",
            figures.replication_last_success_age_s,
        )
        queue = GaugeMetricFamily(
            "taspa_job_queue_depth", "Background jobs waiting for a worker.", labels=["queue"]
        )
        for name, depth in sorted(figures.job_queue_depth.items()):
            queue.add_metric([name], depth)
        yield queue
        yield _gauge(
            "taspa_jobs_running", "Background jobs a worker is running now.", figures.jobs_running
        )
        from taspa.evidence.selectors import uncovered_recordings  # issue 15

        yield _gauge(
            "taspa_evidence_uncovered_recordings",
            "Sealed recordings of past days without an evidence record yet (RFC 4998).",
            uncovered_recordings(),
        )
        yield from _proof_gauges()


def _proof_gauges() -> Iterator[Metric]:
    """Proofs sealed recordings still wait for (issue 15): a signature timestamp (TSA down),
    the signer's revocation evidence (OCSP/CRL down), the day's evidence record."""
    from taspa.evidence.actions import overdue_evidence
    from taspa.sealing.proofs import missing_proofs

    waiting = GaugeMetricFamily(
        "taspa_proofs_waiting",
        "Sealed recordings still waiting for a proof, by kind (sealing did not wait for it).",
        labels=["kind"],
    )
    overdue = GaugeMetricFamily(
        "taspa_proofs_overdue",
        "Sealed recordings waiting for a proof longer than TASPA_PROOF_ALERT_AFTER_HOURS.",
        labels=["kind"],
    )
    for missing in missing_proofs():
        waiting.add_metric([missing.kind], missing.waiting)
        overdue.add_metric([missing.kind], missing.overdue)
    overdue.add_metric(["evidence"], overdue_evidence().count())
    yield waiting
    yield overdue


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


_DATABASE = DatabaseCollector()
if not _multiprocess():
    REGISTRY.register(_DATABASE)


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets, and its content type."""
    if _multiprocess():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(_DATABASE)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
