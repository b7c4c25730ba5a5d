"""python manage.py create_api_token USERNAME --scope read|upload|write [--name N]

Prints a new API token for the user, once; only its hash is kept."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from commissioning.api.auth import api_token_create
from strategies.models import ApiToken


class Command(BaseCommand):
    help = "Make an API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--scope", choices=ApiToken.Scope.values, default=ApiToken.Scope.READ
        )
        parser.add_argument("--name", default="Command-line token")

    def handle(self, *args, username, scope, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user called '{username}'.")
        if not user.is_active:
            raise CommandError(f"The user '{username}' is not active.")
        _row, token = api_token_create(user=user, name=name, scope=scope)
        self.stdout.write(token)
