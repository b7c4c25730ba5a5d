import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create (or reset) the local demo login 'demo' with DEMO_PASSWORD or a generated "
        "password kept under var/, and print it. For development only."
    )

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("The demo login is for development only.")
        password = os.environ.get("DEMO_PASSWORD") or self._kept_password()
        user, _ = get_user_model().objects.get_or_create(
            username="demo",
            defaults={"first_name": "Demo", "last_name": "Commissioner"},
        )
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Login: demo / {password}")

    def _kept_password(self) -> str:
        path = settings.VAR_DIR / "demo_password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(12))
            path.chmod(0o600)
        return path.read_text().strip()
