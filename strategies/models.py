"""The commissioning system (the tenant) and the framework tree it chooses.

A framework is a tree of named levels chosen per system: the top level is always a `Strategy`
(Plymouth calls it "Strategy", Torbay and South Devon "Priority area"); below it each system
names its own levels (`FrameworkLevel`): Plymouth has strategy aims and system elements,
Torbay and South Devon delivery milestones. Nothing here knows any one system's shape.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from commissioning.db import TimeStampedModel


class CommissioningSystem(TimeStampedModel):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    strategy_label = models.CharField(max_length=60, default="Strategy")
    strategy_label_plural = models.CharField(max_length=60, default="Strategies")
    home_area = models.ForeignKey(
        "indicators.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The area the scorecard shows when an indicator has values for several.",
    )
    position = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class FrameworkLevel(models.Model):
    """A named level below the strategy level, e.g. "Strategy aim" or "Delivery milestone"."""

    system = models.ForeignKey(
        CommissioningSystem, on_delete=models.CASCADE, related_name="levels"
    )
    slug = models.SlugField()
    name = models.CharField(max_length=100)
    name_plural = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["system", "position"]
        constraints = [
            models.UniqueConstraint(fields=["system", "slug"], name="level_unique_slug")
        ]

    def __str__(self) -> str:
        return f"{self.system.short_name}: {self.name}"


class PartnerOrganisation(models.Model):
    class Kind(models.TextChoices):
        COUNCIL = "council", "Local authority"
        CCG = "ccg", "Clinical commissioning group"
        TRUST = "trust", "NHS trust"
        OTHER = "other", "Other"

    system = models.ForeignKey(
        CommissioningSystem, on_delete=models.CASCADE, related_name="partners"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    code = models.CharField(max_length=20, blank=True, help_text="ONS or ODS code")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["system", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "name"], name="partner_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Fund(models.Model):
    system = models.ForeignKey(
        CommissioningSystem, on_delete=models.CASCADE, related_name="funds"
    )
    name = models.CharField(max_length=300)
    amount_gbp_m = models.DecimalField(
        "amount (GBP million)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    year = models.CharField(max_length=20, blank=True)
    scope = models.TextField(blank=True)
    source = models.CharField(max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["system", "position"]
        constraints = [
            models.UniqueConstraint(fields=["system", "name"], name="fund_unique_name"),
            models.CheckConstraint(
                condition=Q(amount_gbp_m__isnull=True) | Q(amount_gbp_m__gte=0),
                name="fund_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SystemStatement(models.Model):
    """A system-wide text in a named section: overarching aims, transformational drivers,
    system priorities, outcomes framework lines, key performance objectives..."""

    system = models.ForeignKey(
        CommissioningSystem, on_delete=models.CASCADE, related_name="statements"
    )
    section = models.SlugField(max_length=80)
    section_title = models.CharField(max_length=200)
    group = models.CharField(max_length=200, blank=True)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["system", "section", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "section", "position"],
                name="statement_unique_position",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.text[:80]


class GovernanceGroup(models.Model):
    system = models.ForeignKey(
        CommissioningSystem, on_delete=models.CASCADE, related_name="governance_groups"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    remit = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["system", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "slug"], name="governance_unique_slug"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Strategy(TimeStampedModel):
    """The top level of a system's framework (a strategy, or a priority area)."""

    system = models.ForeignKey(
        CommissioningSystem, on_delete=models.CASCADE, related_name="strategies"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    number = models.PositiveSmallIntegerField()
    vision = models.TextField(blank=True)
    scope = models.TextField(blank=True)
    spend_gbp_m = models.DecimalField(
        "spend (GBP million)", max_digits=12, decimal_places=2, null=True, blank=True
    )
    spend_year = models.CharField(max_length=20, blank=True)
    horizon = models.CharField(max_length=50, blank=True)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["system", "number"]
        verbose_name_plural = "strategies"
        constraints = [
            models.UniqueConstraint(
                fields=["system", "slug"], name="strategy_unique_slug"
            ),
            models.UniqueConstraint(
                fields=["system", "number"], name="strategy_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(spend_gbp_m__isnull=True) | Q(spend_gbp_m__gte=0),
                name="strategy_spend_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FrameworkItem(models.Model):
    """An entry at one of the system's levels under a strategy: an aim, an element, a
    milestone. `key` is stable (aims are keyed by their number)."""

    strategy = models.ForeignKey(
        Strategy, on_delete=models.CASCADE, related_name="items"
    )
    level = models.ForeignKey(
        FrameworkLevel, on_delete=models.PROTECT, related_name="items"
    )
    key = models.SlugField(max_length=100)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    due_label = models.CharField(max_length=50, blank=True)
    due_date = models.DateField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["strategy", "level__position", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "level", "key"], name="item_unique_key"
            )
        ]

    def __str__(self) -> str:
        label = f"{self.level.name} {self.number}" if self.number else self.level.name
        return f"{label}: {self.title or self.text[:80]}"


class StrategyLink(models.Model):
    """How one strategy links to another, in the words of the strategy document."""

    from_strategy = models.ForeignKey(
        Strategy, on_delete=models.CASCADE, related_name="links_out"
    )
    to_strategy = models.ForeignKey(
        Strategy, on_delete=models.CASCADE, related_name="links_in"
    )
    items = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["from_strategy", "to_strategy"], name="link_unique_pair"
            ),
            models.CheckConstraint(
                condition=~Q(from_strategy=F("to_strategy")), name="link_not_to_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_strategy} -> {self.to_strategy}"


class SystemDesignGroup(models.Model):
    """One per strategy: owns it, monitors delivery, explains its exceptions."""

    strategy = models.OneToOneField(
        Strategy, on_delete=models.CASCADE, related_name="design_group"
    )
    name = models.CharField(max_length=200)
    remit = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="SdgMembership", related_name="design_groups"
    )

    def __str__(self) -> str:
        return self.name


class SdgMembership(TimeStampedModel):
    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        MEMBER = "member", "Member"

    group = models.ForeignKey(
        SystemDesignGroup, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sdg_memberships",
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="sdg_unique_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.group})"


class SystemRole(TimeStampedModel):
    """What a user may do in one commissioning system. A user sees nothing of a system they
    hold no role in (superusers excepted)."""

    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        ANALYST = "analyst", "Analyst"
        ADMIN = "admin", "System administrator"

    system = models.ForeignKey(
        CommissioningSystem, on_delete=models.CASCADE, related_name="roles"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="system_roles"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["system", "user", "role"], name="system_role_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.system.short_name})"


class ApiToken(TimeStampedModel):
    """A user's key for the API, sent as `Authorization: Bearer <token>`. Only a SHA-256
    hash is stored: the token itself is shown once, when it is made. The scope limits what
    the token may do beyond the user's own permissions; it never adds to them."""

    class Scope(models.TextChoices):
        READ = "read", "Read"
        UPLOAD = "upload", "Read and upload returns"
        WRITE = "write", "Read, upload and write progress and commentary"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=12, help_text="The token's first characters, to tell tokens apart"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}..., {self.get_scope_display()})"
