"""The one background task that runs a registered periodic job (django-tasks)."""

from __future__ import annotations

from django_tasks import task

from taspa.jobs import actions


@task()
def run_periodic(name: str) -> str:
    return actions.run_job(name)
