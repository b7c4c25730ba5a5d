"""Pages of the System Design Group workflow: "My updates", reporting cycles, exception
commentary (write, submit, approve or return), publishing, and published stocktakes.

Thin: a permission check (404 when the user cannot see the object, 403 for a write they
may not make), a selector or a service, a template."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from actions.selectors import audit_trail, exception_report_items, exception_reports
from actions.services import EditConflict, PeriodLocked
from commissioning.forms import add_service_errors
from indicators.models import Indicator
from scorecard.forms import CommentaryForm, PublishForm, ReviewForm
from scorecard.models import ExceptionCommentary, ReportingCycle, Stocktake
from scorecard.services import commentary as commentary_services
from scorecard.services import publishing
from scorecard.services.reminders import updates_owed
from strategies.models import Strategy
from strategies.permissions import (
    can_approve_commentary,
    can_publish_stocktake,
    can_view_strategy,
    can_view_system,
    can_write_commentary,
    strategies_visible_to,
    workflow_systems_visible_to,
)


def _can_see_system(user, system) -> bool:
    return workflow_systems_visible_to(user).filter(pk=system.pk).exists()


def _cycle_for(request, cycle_id: int) -> ReportingCycle:
    cycle = get_object_or_404(
        ReportingCycle.objects.select_related("system", "stocktake"), pk=cycle_id
    )
    if not _can_see_system(request.user, cycle.system):
        raise Http404
    return cycle


@login_required
@require_GET
def my_updates(request):
    items = updates_owed(request.user)
    cycles = {}
    for item in items:
        cycles.setdefault(item.cycle, []).append(item)
    return render(
        request,
        "workflow/my_updates.html",
        {"cycles": cycles, "item_count": len(items), "today": timezone.localdate()},
    )


@login_required
@require_GET
def cycle_list(request):
    visible = set(
        workflow_systems_visible_to(request.user).values_list("pk", flat=True)
    )
    cycles = (
        ReportingCycle.objects.filter(system_id__in=visible)
        .select_related("system", "stocktake")
        .order_by("system__position", "-deadline")
    )
    stocktakes = (
        Stocktake.objects.filter(system_id__in=visible)
        .select_related("system")
        .order_by("system__position", "-published")
    )
    return render(
        request,
        "workflow/cycle_list.html",
        {"cycles": list(cycles), "stocktakes": list(stocktakes)},
    )


@login_required
@require_GET
def cycle_detail(request, cycle_id: int):
    cycle = _cycle_for(request, cycle_id)
    strategies = Strategy.objects.filter(system=cycle.system).order_by("number")
    if not can_view_system(request.user, cycle.system):
        # Members of a group see their own strategies only.
        strategies = strategies.filter(pk__in=strategies_visible_to(request.user))
    strategies = list(strategies)
    reports = exception_reports(strategies)
    commentaries = {
        (c.strategy_id, c.indicator_id): c
        for c in ExceptionCommentary.objects.filter(cycle=cycle)
    }
    sections = []
    outstanding = 0
    for strategy in strategies:
        rows = []
        for item in reports.get(strategy.pk, []):
            commentary = commentaries.get((strategy.pk, item.indicator.pk))
            if commentary is None or commentary.status != "approved":
                outstanding += 1
            rows.append({"item": item, "commentary": commentary})
        sections.append({"strategy": strategy, "rows": rows})
    return render(
        request,
        "workflow/cycle_detail.html",
        {
            "cycle": cycle,
            "sections": sections,
            "outstanding": outstanding,
            "can_publish": can_publish_stocktake(request.user, cycle.system)
            and not cycle.is_published,
            "publish_form": PublishForm(),
        },
    )


@login_required
@require_POST
def cycle_publish(request, cycle_id: int):
    cycle = _cycle_for(request, cycle_id)
    if not can_publish_stocktake(request.user, cycle.system):
        raise PermissionDenied
    form = PublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Confirm that you understand publishing is final.")
        return redirect("workflow:cycle_detail", cycle_id=cycle.pk)
    try:
        stocktake = publishing.stocktake_publish(cycle=cycle, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("workflow:cycle_detail", cycle_id=cycle.pk)
    messages.success(request, "Stocktake published.")
    return redirect("workflow:stocktake_detail", stocktake_id=stocktake.pk)


def _commentary_target(request, cycle_id, strategy_id, indicator_id):
    cycle = _cycle_for(request, cycle_id)
    strategy = get_object_or_404(
        Strategy.objects.select_related("system"), pk=strategy_id, system=cycle.system
    )
    if not can_view_strategy(request.user, strategy):
        raise Http404
    indicator = get_object_or_404(
        Indicator, pk=indicator_id, system=cycle.system, assignments__strategy=strategy
    )
    return cycle, strategy, indicator


@login_required
@require_http_methods(["GET", "POST"])
def commentary(request, cycle_id: int, strategy_id: int, indicator_id: int):
    cycle, strategy, indicator = _commentary_target(
        request, cycle_id, strategy_id, indicator_id
    )
    can_write = can_write_commentary(request.user, strategy) and not cycle.is_published
    current = ExceptionCommentary.objects.filter(
        cycle=cycle, strategy=strategy, indicator=indicator
    ).first()
    conflict = None
    form = None
    status = 200
    if request.method == "POST":
        if not can_write_commentary(request.user, strategy):
            raise PermissionDenied
        form = CommentaryForm(request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            expected = values.pop("version")
            try:
                if current is None:
                    current = commentary_services.commentary_start(
                        cycle=cycle,
                        strategy=strategy,
                        indicator=indicator,
                        user=request.user,
                    )
                    expected = current.version if expected == 0 else expected
                submit = request.POST.get("intent") == "submit"
                service = (
                    commentary_services.commentary_submit
                    if submit
                    else commentary_services.commentary_save
                )
                current = service(
                    commentary=current,
                    user=request.user,
                    expected_version=expected,
                    values=values,
                )
            except EditConflict as error:
                conflict = error
                current = error.current
                data = request.POST.copy()
                data["version"] = error.current.version
                form = CommentaryForm(data)
                form.is_valid()
                status = 409
            except PeriodLocked as error:
                messages.error(request, error.message)
                return redirect(request.path)
            except ValidationError as error:
                add_service_errors(form, error)
                status = 400
            else:
                messages.success(
                    request,
                    "Commentary submitted for approval." if submit else "Draft saved.",
                )
                return redirect(request.path)
        else:
            status = 400
    editable = can_write and (
        current is None or current.status in ("draft", "returned")
    )
    preview = None
    if form is None and editable:
        if current is not None:
            form = CommentaryForm.for_commentary(current)
        else:
            # Nothing saved yet: start from last period's approved commentary.
            preview = commentary_services.previous_approved(cycle, strategy, indicator)
            initial = {"version": 0}
            if preview is not None:
                initial.update(
                    story=preview.story or preview.text,
                    helping=preview.helping,
                    hindering=preview.hindering,
                    actions_taken=preview.actions_taken,
                    expected_recovery=preview.expected_recovery,
                )
            form = CommentaryForm(initial=initial)
    can_review = (
        current is not None
        and current.status == "submitted"
        and not cycle.is_published
        and can_approve_commentary(request.user, strategy)
    )
    items = [
        i for i in exception_report_items(strategy) if i.indicator.pk == indicator.pk
    ]
    return render(
        request,
        "workflow/commentary.html",
        {
            "cycle": cycle,
            "strategy": strategy,
            "indicator": indicator,
            "flags": items[0].flags if items else [],
            "commentary": current,
            "form": form if editable else None,
            "carried_from": preview
            if current is None
            else (current.carried_from if current else None),
            "differences": commentary_services.commentary_differences(current)
            if current
            else [],
            "conflict": conflict,
            "can_review": can_review,
            "own_submission": can_review and current.submitted_by_id == request.user.pk,
            "review_form": ReviewForm(initial={"version": current.version})
            if can_review
            else None,
            "history": audit_trail(
                ExceptionCommentary, [current.pk], label=lambda r: "commentary"
            )
            if current
            else [],
        },
        status=status,
    )


@login_required
@require_POST
def commentary_review(request, cycle_id: int, strategy_id: int, indicator_id: int):
    cycle, strategy, indicator = _commentary_target(
        request, cycle_id, strategy_id, indicator_id
    )
    if not can_approve_commentary(request.user, strategy):
        raise PermissionDenied
    current = get_object_or_404(
        ExceptionCommentary, cycle=cycle, strategy=strategy, indicator=indicator
    )
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The form was incomplete; try again.")
        return redirect("workflow:commentary", cycle.pk, strategy.pk, indicator.pk)
    approve = request.POST.get("intent") == "approve"
    try:
        if approve:
            commentary_services.commentary_approve(
                commentary=current,
                user=request.user,
                expected_version=form.cleaned_data["version"],
            )
        else:
            commentary_services.commentary_return(
                commentary=current,
                user=request.user,
                expected_version=form.cleaned_data["version"],
                note=form.cleaned_data["note"],
            )
    except EditConflict as error:
        messages.error(request, error.message)
    except PeriodLocked as error:
        messages.error(request, error.message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, "Commentary approved." if approve else "Commentary returned."
        )
    return redirect("workflow:commentary", cycle.pk, strategy.pk, indicator.pk)


@login_required
@require_GET
def stocktake_detail(request, stocktake_id: int):
    stocktake = get_object_or_404(
        Stocktake.objects.select_related("system", "published_by"), pk=stocktake_id
    )
    if not _can_see_system(request.user, stocktake.system):
        raise Http404
    sections = publishing.stocktake_snapshot(stocktake)
    transcribed = []
    if not sections:
        transcribed = list(
            stocktake.overview_rows.select_related("strategy").order_by(
                "strategy__number", "position"
            )
        )
    return render(
        request,
        "workflow/stocktake_detail.html",
        {
            "stocktake": stocktake,
            "sections": sections,
            "transcribed": transcribed,
            "commentaries": list(
                stocktake.commentaries.select_related("strategy").order_by(
                    "strategy__number", "position"
                )
            )
            if not sections
            else [],
            "revised_count": sum(
                1 for s in sections for row in s.overview if row["revised"]
            ),
        },
    )
