"""Published stocktakes: the scorecard as it was put to the board, kept as published."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from commissioning.db import TimeStampedModel


class Stocktake(TimeStampedModel):
    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="stocktakes",
    )
    slug = models.SlugField(max_length=100)
    title = models.CharField(max_length=300)
    published = models.DateField()
    source = models.CharField(max_length=200, blank=True)
    # Set when the application published it (a frozen snapshot); empty for stocktakes
    # transcribed from documents.
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["system", "-published"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "slug"], name="stocktake_unique_slug"
            )
        ]

    def __str__(self) -> str:
        return self.title


class PublishedOverviewRow(models.Model):
    """A performance overview row exactly as a stocktake published it. The first value of the
    graph is kept as published, with no date invented for it."""

    stocktake = models.ForeignKey(
        Stocktake, on_delete=models.CASCADE, related_name="overview_rows"
    )
    strategy = models.ForeignKey(
        "strategies.Strategy", on_delete=models.CASCADE, related_name="published_rows"
    )
    aim = models.ForeignKey(
        "strategies.FrameworkItem",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="published_rows",
    )
    group_heading = models.TextField(blank=True)
    indicator = models.ForeignKey(
        "indicators.Indicator", on_delete=models.CASCADE, related_name="published_rows"
    )
    area = models.ForeignKey(
        "indicators.Area", on_delete=models.PROTECT, related_name="published_rows"
    )
    position = models.PositiveSmallIntegerField()
    indicator_text = models.CharField(max_length=500)
    measure_text = models.CharField(max_length=100, blank=True)
    most_recent_period_text = models.CharField(max_length=50, blank=True)
    period = models.ForeignKey(
        "indicators.Period",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    benchmark_england_text = models.CharField(max_length=50, blank=True)
    first_value_text = models.CharField(max_length=50, blank=True)
    first_value = models.FloatField(null=True, blank=True)
    last_value_text = models.CharField(max_length=50, blank=True)
    last_value = models.FloatField(null=True, blank=True)
    trend_text = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["stocktake", "strategy__number", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["stocktake", "strategy", "position"],
                name="published_row_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.strategy}: {self.indicator_text}"


class ReportingCycle(TimeStampedModel):
    """A reporting period of a system (e.g. a quarterly stocktake): progress updates and
    exception commentary are due by its deadline; publishing it freezes a stocktake."""

    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="reporting_cycles",
    )
    title = models.CharField(max_length=200)
    opens = models.DateField(help_text="Updates made from this date count towards it.")
    deadline = models.DateField()
    stocktake = models.OneToOneField(
        Stocktake,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cycle",
        help_text="Set when the cycle is published; the cycle is locked from then on.",
    )

    class Meta:
        ordering = ["system", "-deadline"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "title"], name="cycle_unique_title"
            ),
            models.CheckConstraint(
                condition=Q(deadline__gte=models.F("opens")),
                name="cycle_deadline_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.system.short_name})"

    @property
    def is_published(self) -> bool:
        return self.stocktake_id is not None


class ExceptionCommentary(TimeStampedModel):
    """The commentary explaining an indicator on a strategy's exception report.

    Rows transcribed from a published document have no cycle and only `text`; rows written
    in the application belong to a reporting cycle and carry the structured fields."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for approval"
        RETURNED = "returned", "Returned for changes"
        APPROVED = "approved", "Approved"

    strategy = models.ForeignKey(
        "strategies.Strategy", on_delete=models.CASCADE, related_name="commentaries"
    )
    indicator = models.ForeignKey(
        "indicators.Indicator",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commentaries",
    )
    stocktake = models.ForeignKey(
        Stocktake,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commentaries",
    )
    cycle = models.ForeignKey(
        ReportingCycle,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commentaries",
    )
    heading = models.CharField(max_length=300)
    text = models.TextField(blank=True, help_text="Sanitised HTML (as published)")
    story = models.TextField(
        "the story behind the numbers", blank=True, help_text="Sanitised HTML"
    )
    helping = models.TextField(
        "what is helping", blank=True, help_text="Sanitised HTML"
    )
    hindering = models.TextField(
        "what is hindering", blank=True, help_text="Sanitised HTML"
    )
    actions_taken = models.TextField(
        "actions taken", blank=True, help_text="Sanitised HTML"
    )
    expected_recovery = models.DateField(
        "expected recovery date", null=True, blank=True
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    return_note = models.TextField(blank=True)
    carried_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Last period's approved commentary this draft started from.",
    )
    dated = models.DateField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commentaries",
    )
    author_name = models.CharField(max_length=200, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["created_at", "updated_at"])

    class Meta:
        ordering = ["strategy", "-dated", "position"]
        verbose_name_plural = "exception commentaries"
        constraints = [
            models.UniqueConstraint(
                fields=["strategy", "heading", "dated"],
                condition=Q(cycle__isnull=True),
                name="commentary_unique_heading",
            ),
            models.UniqueConstraint(
                fields=["cycle", "strategy", "indicator"],
                condition=Q(cycle__isnull=False),
                name="commentary_one_per_cycle",
            ),
        ]

    def __str__(self) -> str:
        return self.heading


class ReminderSent(models.Model):
    """One reminder e-mail per user per cycle: the beat task may run any number of times."""

    cycle = models.ForeignKey(
        ReportingCycle, on_delete=models.CASCADE, related_name="reminders"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cycle", "user"], name="reminder_once")
        ]

    def __str__(self) -> str:
        return f"Reminder to {self.user} for {self.cycle}"


class SnapshotRow(models.Model):
    """One row of a stocktake as the application published it, frozen as JSON: the
    overview (values and flags), the exceptions, their commentary and action progress."""

    class Kind(models.TextChoices):
        OVERVIEW = "overview", "Performance overview"
        EXCEPTION = "exception", "Exception"
        ACTION = "action", "Action progress"

    stocktake = models.ForeignKey(
        Stocktake, on_delete=models.CASCADE, related_name="snapshot_rows"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    strategy = models.ForeignKey(
        "strategies.Strategy", on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveIntegerField()
    data = models.JSONField()

    class Meta:
        ordering = ["stocktake", "kind", "strategy__number", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["stocktake", "kind", "strategy", "position"],
                name="snapshot_row_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stocktake}: {self.get_kind_display()} {self.position}"


class AnalysisSettings(models.Model):
    """Per-indicator options of the analytics (defaults apply when an indicator has none)."""

    indicator = models.OneToOneField(
        "indicators.Indicator",
        on_delete=models.CASCADE,
        related_name="analysis_settings",
    )
    screen_outliers = models.BooleanField(
        default=True,
        help_text="Screen moving ranges >= 3.267 x mR-bar (the NHS England Excel tool does not).",
    )
    fix_limits_after = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Fix SPC limits from the first n points of a group.",
    )
    publication_lag_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Days after a period ends before its value is due.",
    )

    def __str__(self) -> str:
        return f"Analysis settings of {self.indicator}"


class RebasePoint(TimeStampedModel):
    """A change point (new service model, definition change): SPC limits and rules restart."""

    indicator = models.ForeignKey(
        "indicators.Indicator", on_delete=models.CASCADE, related_name="rebase_points"
    )
    area = models.ForeignKey(
        "indicators.Area",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        help_text="Blank: every area of the indicator.",
    )
    period = models.ForeignKey(
        "indicators.Period", on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        ordering = ["indicator", "period__start"]

    def __str__(self) -> str:
        return f"{self.indicator.key} rebased at {self.period}"


class RecomputeRun(models.Model):
    class Kind(models.TextChoices):
        QUEUED = "queued", "Queued series after a return"
        FULL = "full", "Full recompute"
        SELECTED = "selected", "Selected indicators"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    series_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    failures = models.JSONField(default=list, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.started_at:%Y-%m-%d %H:%M}"


class SeriesResult(models.Model):
    """Everything computed for one series (indicator x area x breakdown), replaced whole by
    each computation so a reader never sees a mixture of two runs."""

    class Method(models.TextChoices):
        SPC = "spc", "Making Data Count SPC"
        PUBLIC_HEALTH = "public_health", "Public health methods (PHE/OHID)"
        DIRECTION = "direction", "Direction of travel"
        INSUFFICIENT = "insufficient_data", "Insufficient data"

    indicator = models.ForeignKey(
        "indicators.Indicator", on_delete=models.CASCADE, related_name="series_results"
    )
    area = models.ForeignKey(
        "indicators.Area", on_delete=models.CASCADE, related_name="+"
    )
    breakdown = models.CharField(max_length=200, blank=True, default="")
    run = models.ForeignKey(
        RecomputeRun, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    computed_at = models.DateTimeField()
    method = models.CharField(max_length=20, choices=Method.choices)
    point_count = models.PositiveIntegerField(default=0)
    has_synthetic = models.BooleanField(default=False)
    latest_value = models.FloatField(null=True, blank=True)
    latest_period = models.ForeignKey(
        "indicators.Period",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    previous_value = models.FloatField(null=True, blank=True)
    change = models.FloatField(null=True, blank=True)
    window_first_value = models.FloatField(null=True, blank=True)
    window_first_label = models.CharField(max_length=40, blank=True)
    sparkline = models.JSONField(
        default=list, blank=True, help_text="[[label, value], ...]"
    )
    spc = models.JSONField(null=True, blank=True)
    variation = models.CharField(max_length=40, blank=True)
    assurance = models.CharField(max_length=40, blank=True)
    spc_reason = models.CharField(max_length=300, blank=True)
    england_value = models.FloatField(null=True, blank=True)
    comparison = models.CharField(max_length=20, blank=True)
    comparison_reason = models.CharField(max_length=300, blank=True)
    trend = models.CharField(max_length=60, blank=True)
    trend_chi_square = models.FloatField(null=True, blank=True)
    trend_reason = models.CharField(max_length=300, blank=True)
    rag = models.CharField(max_length=10, blank=True)
    rag_reason = models.CharField(max_length=300, blank=True)
    target = models.ForeignKey(
        "indicators.Target",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    direction = models.CharField(max_length=20, blank=True)
    direction_reason = models.CharField(max_length=300, blank=True)
    overdue = models.BooleanField(default=False)
    overdue_reason = models.CharField(max_length=300, blank=True)
    inputs = models.JSONField(
        default=dict, blank=True, help_text="Which observations and returns were used"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "area", "breakdown"], name="series_result_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator.key} {self.area.code}: {self.method}"


class ExceptionRule(models.Model):
    """Which conditions put a series on the exception report, per system, and how badly."""

    class Rule(models.TextChoices):
        SPECIAL_CAUSE_CONCERN = "special_cause_concern", "Special cause concern"
        FAILING_TARGET = "failing_target", "Consistently failing the target"
        RAG_RED = "rag_red", "Red against target"
        WORSE_THAN_ENGLAND = "worse_than_england", "Worse than England"
        TREND_WORSENING = "trend_worsening", "Recent trend getting worse"
        DATA_OVERDUE = "data_overdue", "Data overdue"

    class Severity(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    system = models.ForeignKey(
        "strategies.CommissioningSystem",
        on_delete=models.CASCADE,
        related_name="exception_rules",
    )
    rule = models.CharField(max_length=30, choices=Rule.choices)
    enabled = models.BooleanField(default=True)
    severity = models.CharField(
        max_length=10, choices=Severity.choices, default=Severity.MEDIUM
    )

    class Meta:
        ordering = ["system", "rule"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "rule"], name="exception_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} ({self.system.short_name})"


class ExceptionFlag(models.Model):
    """A rule firing on a series, from when it went onto the report until it came off:
    open flags (cleared_at empty) are the report; closed ones are its history."""

    indicator = models.ForeignKey(
        "indicators.Indicator", on_delete=models.CASCADE, related_name="exception_flags"
    )
    area = models.ForeignKey(
        "indicators.Area", on_delete=models.CASCADE, related_name="+"
    )
    breakdown = models.CharField(max_length=200, blank=True, default="")
    rule = models.CharField(max_length=30, choices=ExceptionRule.Rule.choices)
    severity = models.CharField(max_length=10, choices=ExceptionRule.Severity.choices)
    reason = models.CharField(max_length=300)
    raised_at = models.DateTimeField()
    raised_run = models.ForeignKey(
        RecomputeRun, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_run = models.ForeignKey(
        RecomputeRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "area", "breakdown", "rule"],
                condition=models.Q(cleared_at__isnull=True),
                name="exception_flag_one_open",
            )
        ]
        indexes = [models.Index(fields=["indicator", "cleared_at"])]

    def __str__(self) -> str:
        return f"{self.indicator.key} {self.area.code}: {self.get_rule_display()}"


# Board packs live in scorecard.packs; imported here so that Django finds their models.
from scorecard.packs.models import BoardPack, BoardPackSchedule  # noqa: E402

__all__ = ["BoardPack", "BoardPackSchedule"]
