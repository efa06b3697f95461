"""``taspa createsuperuser``: Django's command, and the user it makes is a system
administrator (role ``system_admin``, CONTRACT.md) — how a real installation starts."""

from __future__ import annotations

import builtins
import os
from unittest import mock

from django.contrib.auth import get_user_model
from django.contrib.auth.management.commands import createsuperuser
from django.core.management.base import CommandError

from taspa.courts.actions import grant_console_system_admin, require_password, require_username
from taspa.errors import InvalidInput


class Command(createsuperuser.Command):
    help = "Create the first system administrator (API and web), from the server console."

    def handle(self, *args, **options):
        # --noinput takes the password from DJANGO_SUPERUSER_PASSWORD, which Django does not
        # check: the same rules as the API and the web form (courts.actions).
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if not options.get("interactive", True):
            try:
                if password is not None:
                    require_password(password)
                if options.get("username"):
                    require_username(options["username"])
            except InvalidInput as refusal:
                raise CommandError(refusal.detail) from None
        users = get_user_model()._default_manager.db_manager(options["database"])
        before = set(users.filter(is_superuser=True).values_list("pk", flat=True))
        # Asked at the console, Django checks the password (AUTH_PASSWORD_VALIDATORS: the same
        # rule) but then offers to bypass it; a court's first administrator may not.
        with mock.patch.object(createsuperuser, "input", _no_bypass, create=True):
            super().handle(*args, **options)
        for user in users.filter(is_superuser=True).exclude(pk__in=before):
            grant_console_system_admin(user=user)
            if options["verbosity"] >= 1:
                self.stdout.write(f"{user.username} is a system administrator (system_admin).")


def _no_bypass(message: str = "") -> str:
    """``input`` for Django's prompts, answering its "bypass password validation?" with no."""
    if message.startswith("Bypass password validation"):
        return "n"
    return builtins.input(message)
