"""Action plans (commissioning activities and their progress reports), the transformation
programme with its projects and benefits, and delivery-plan savings."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from commissioning.db import TimeStampedModel


class Rag(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


class ActionPlan(TimeStampedModel):
    system = models.ForeignKey(
        "strategies.CommissioningSystem", on_delete=models.CASCADE, related_name="plans"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["system", "-start", "name"]
        constraints = [
            models.UniqueConstraint(fields=["system", "slug"], name="plan_unique_slug"),
            models.CheckConstraint(
                condition=Q(start__isnull=True)
                | Q(end__isnull=True)
                | Q(end__gte=F("start")),
                name="plan_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Action(TimeStampedModel):
    """A commissioning activity of a strategy's action plan."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", "Not started"
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        OFF_TRACK = "off_track", "Off track"
        COMPLETE = "complete", "Complete"
        CLOSED = "closed", "Closed"

    plan = models.ForeignKey(
        ActionPlan, on_delete=models.CASCADE, related_name="actions"
    )
    strategy = models.ForeignKey(
        "strategies.Strategy", on_delete=models.CASCADE, related_name="actions"
    )
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True, help_text="Sanitised HTML")
    timeframe = models.CharField(max_length=100, blank=True, help_text="As written")
    timeframe_start = models.DateField(null=True, blank=True)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    rag = models.CharField(max_length=10, choices=Rag.choices, blank=True)
    indicators = models.ManyToManyField(
        "indicators.Indicator", blank=True, related_name="actions"
    )
    source = models.CharField(max_length=200, blank=True)
    # Optimistic locking: an update names the version it was read at and is refused when
    # someone else saved in between.
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["plan", "strategy__number", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "strategy", "position"], name="action_unique_position"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ProgressReport(TimeStampedModel):
    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="progress_reports"
    )
    date = models.DateField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="progress_reports",
    )
    author_name = models.CharField(max_length=200, blank=True)
    text = models.TextField(help_text="Sanitised HTML")
    rag = models.CharField(max_length=10, choices=Rag.choices, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=20, choices=Action.Status.choices, blank=True)
    rag_reason = models.CharField(max_length=500, blank=True)
    percent_complete = models.PositiveSmallIntegerField(null=True, blank=True)
    cycle = models.ForeignKey(
        "scorecard.ReportingCycle",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="progress_reports",
        help_text="The reporting cycle the update was made for; locked once published.",
    )
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["action", "date", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["action", "date", "position"], name="progress_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(percent_complete__isnull=True)
                | Q(percent_complete__lte=100),
                name="progress_percent_at_most_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} ({self.date:%d %b %Y})"


class Milestone(TimeStampedModel):
    """A dated step of a commissioning activity."""

    action = models.ForeignKey(
        Action, on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField(max_length=300)
    due_date = models.DateField()
    completed_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["action", "due_date", "id"]

    def __str__(self) -> str:
        return f"{self.title} (due {self.due_date:%d %b %Y})"


class SavingsPlan(TimeStampedModel):
    """A delivery plan's savings and its risk assessment (budget scrutiny, seed 002)."""

    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="savings_plans",
    )
    service = models.CharField(max_length=200)
    savings_gbp_m = models.JSONField(
        default=dict, help_text='GBP million by financial year, e.g. {"2018/19": 1.263}'
    )
    key_workstreams = models.TextField(blank=True)
    overview = models.TextField(blank=True, help_text="Sanitised HTML")
    risk_rating = models.CharField(max_length=10, choices=Rag.choices, blank=True)
    risk_text = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["system", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "service"], name="savings_unique_service"
            )
        ]

    def __str__(self) -> str:
        return self.service


class Programme(TimeStampedModel):
    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="programmes",
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    aims = models.JSONField(default=list, blank=True)
    details = models.JSONField(
        default=dict, blank=True, help_text="Further structured content of the document"
    )
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["system", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "slug"], name="programme_unique_slug"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="projects"
    )
    slug = models.SlugField(max_length=100)
    name = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    addressable_spend_gbp_m = models.DecimalField(
        max_digits=12, decimal_places=3, null=True, blank=True
    )
    addressable_spend_text = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["programme", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "slug"], name="project_unique_slug"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Benefit(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="benefits"
    )
    title = models.CharField(max_length=500)
    measure = models.TextField(blank=True)
    baseline_value = models.FloatField(null=True, blank=True)
    baseline_period = models.CharField(max_length=30, blank=True)
    baseline_text = models.TextField(blank=True)
    targets = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"period": "2014/15", "value": 5, "text": ...}]',
    )
    details = models.JSONField(default=dict, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["project", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "position"], name="benefit_unique_position"
            )
        ]

    def __str__(self) -> str:
        return self.title
