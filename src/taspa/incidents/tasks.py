"""Background work of the incidents area: thin wrappers over actions (django-tasks)."""

from __future__ import annotations

from django_tasks import task


@task()
def send_notification_email(notification_id: int) -> str:
    from taspa.incidents.actions import deliver_email

    return deliver_email(notification_id)


@task()
def check_hearing_recorded(hearing_id: int) -> str:
    """R17, after a recording stopped: was the hearing actually recorded?"""
    from taspa.incidents.detection import check_recorded

    check = check_recorded(hearing_id=hearing_id)
    return "skipped" if check is None else ("recorded" if check.ok else f"NOT: {check.reason}")
