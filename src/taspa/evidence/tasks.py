"""The evidence jobs (registered in apps.py): thin wrappers over the actions."""

from __future__ import annotations

from taspa.evidence.actions import EvidenceUnavailable, build_due, renew_due


def build_job() -> str:
    try:
        return str(build_due())
    except EvidenceUnavailable as error:
        return str(error)


def renew_job() -> str:
    return str(renew_due())
