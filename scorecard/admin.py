from django.contrib import admin

from scorecard.models import ExceptionCommentary, PublishedOverviewRow, Stocktake


class PublishedOverviewRowInline(admin.TabularInline):
    model = PublishedOverviewRow
    extra = 0
    fields = [
        "strategy",
        "position",
        "indicator_text",
        "most_recent_period_text",
        "benchmark_england_text",
        "first_value_text",
        "last_value_text",
        "trend_text",
    ]
    readonly_fields = fields
    can_delete = False


@admin.register(Stocktake)
class StocktakeAdmin(admin.ModelAdmin):
    list_display = ["title", "system", "published"]
    list_filter = ["system"]
    search_fields = ["title"]
    list_select_related = ["system"]
    inlines = [PublishedOverviewRowInline]


@admin.register(PublishedOverviewRow)
class PublishedOverviewRowAdmin(admin.ModelAdmin):
    list_display = [
        "indicator_text",
        "strategy",
        "most_recent_period_text",
        "first_value_text",
        "last_value_text",
        "stocktake",
    ]
    list_filter = ["stocktake", "strategy"]
    search_fields = ["indicator_text", "group_heading"]
    list_select_related = ["strategy", "stocktake"]


@admin.register(ExceptionCommentary)
class ExceptionCommentaryAdmin(admin.ModelAdmin):
    list_display = ["heading", "strategy", "indicator", "dated", "author_name"]
    list_filter = ["strategy__system", "strategy", "dated"]
    search_fields = ["heading", "text"]
    list_select_related = ["strategy", "indicator"]
    raw_id_fields = ["indicator", "author"]
