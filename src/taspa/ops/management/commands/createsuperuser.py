"""``taspa createsuperuser``: Django's command, and the user it makes is a system
administrator (role ``system_admin``, CONTRACT.md) — how a real installation starts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.management.commands import createsuperuser

from taspa.courts.actions import grant_console_system_admin


class Command(createsuperuser.Command):
    help = "Create the first system administrator (API and web), from the server console."

    def handle(self, *args, **options):
        users = get_user_model()._default_manager.db_manager(options["database"])
        before = set(users.filter(is_superuser=True).values_list("pk", flat=True))
        super().handle(*args, **options)
        for user in users.filter(is_superuser=True).exclude(pk__in=before):
            grant_console_system_admin(user=user)
            if options["verbosity"] >= 1:
                self.stdout.write(f"{user.username} is a system administrator (system_admin).")
