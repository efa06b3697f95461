"""Writes the web shell makes on a user's behalf."""

from __future__ import annotations

from taspa.courts.models import User


def remember_language(*, actor: User, language: str) -> None:
    """A personal preference, not a court record: no audit event."""
    if actor.language != language:
        actor.language = language
        actor.save(update_fields=["language"])
