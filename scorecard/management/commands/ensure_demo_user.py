import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


def ensure_demo_workflow(demo_user, password: str) -> list[str]:
    """Something to try in the SDG workflow: `demo` and `demo-lead2` lead a Plymouth
    strategy's System Design Group, and an open reporting cycle is due in a fortnight."""
    import datetime as dt

    from django.utils import timezone

    from scorecard.models import ReportingCycle
    from strategies.models import SdgMembership, Strategy, SystemDesignGroup, SystemRole

    strategy = (
        Strategy.objects.filter(system__slug="plymouth").order_by("number").first()
    )
    if strategy is None:
        return ["No Plymouth strategy loaded: run load_seed_data first."]
    lead2, _ = get_user_model().objects.get_or_create(
        username="demo-lead2",
        defaults={"first_name": "Second", "last_name": "Lead"},
    )
    lead2.set_password(password)
    lead2.save()
    group, _ = SystemDesignGroup.objects.get_or_create(
        strategy=strategy, defaults={"name": f"{strategy.name} System Design Group"}
    )
    for user in (demo_user, lead2):
        SdgMembership.objects.update_or_create(
            group=group, user=user, defaults={"role": SdgMembership.Role.LEAD}
        )
        SystemRole.objects.get_or_create(
            system=strategy.system, user=user, role=SystemRole.Role.VIEWER
        )
    today = timezone.localdate()
    open_cycle = ReportingCycle.objects.filter(
        system=strategy.system, stocktake__isnull=True
    ).first()
    if open_cycle is None:
        number = ReportingCycle.objects.filter(system=strategy.system).count() + 1
        open_cycle = ReportingCycle.objects.create(
            system=strategy.system,
            title=f"Demo quarterly stocktake {number}",
            opens=today - dt.timedelta(days=30),
            deadline=today + dt.timedelta(days=14),
        )
    return [
        f"Second lead: demo-lead2 / {password}",
        f"Both lead {strategy.name}; open cycle: {open_cycle.title}, due "
        f"{open_cycle.deadline:%d %b %Y} (see /workflow/my-updates/).",
    ]


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
        for line in ensure_demo_workflow(user, password):
            self.stdout.write(line)

    def _kept_password(self) -> str:
        path = settings.VAR_DIR / "demo_password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(12))
            path.chmod(0o600)
        return path.read_text().strip()
