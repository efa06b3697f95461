from django.core.management.base import BaseCommand, CommandError

from taspa.api.actions import issue_token
from taspa.courts.models import User


class Command(BaseCommand):
    help = "API tokens: `taspa token create --user U` prints a new token for U."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="print a new API token for a user")
        create.add_argument("--user", required=True, help="user name")

    def handle(self, *args, verb: str, user: str, **options):
        person = User.objects.filter(username=user).first()
        if person is None:
            raise CommandError(f"No user named {user!r}.")
        # The console operator of the server acts as the system itself (actor=None).
        self.stdout.write(issue_token(actor=None, user=person))
