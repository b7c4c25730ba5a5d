"""Action plan pages: a strategy's activities, one activity with its progress, milestones
and history, and the forms that change them.

Thin: a permission check (404 when the user cannot see the strategy, so ids of another
system reveal nothing; 403 for a write they may not make), a selector or a service, a
template."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from actions import selectors, services
from actions.forms import ActionForm, MilestoneForm, ProgressForm
from actions.models import Action, Milestone, ProgressReport
from commissioning.forms import add_service_errors
from strategies.models import Strategy
from strategies.permissions import (
    can_manage_actions,
    can_report_progress,
    can_view_strategy,
    sdg_role,
)


def _strategy_for(request, system_slug: str, strategy_slug: str) -> Strategy:
    strategy = get_object_or_404(
        Strategy.objects.select_related("system"),
        system__slug=system_slug,
        slug=strategy_slug,
    )
    if not can_view_strategy(request.user, strategy):
        raise Http404
    return strategy


def _action_for(request, action_id: int) -> Action:
    action = get_object_or_404(
        Action.objects.select_related("strategy__system", "plan"), pk=action_id
    )
    if not can_view_strategy(request.user, action.strategy):
        raise Http404
    return action


@login_required
@require_GET
def action_plan(request, system_slug: str, strategy_slug: str):
    strategy = _strategy_for(request, system_slug, strategy_slug)
    return render(
        request,
        "actions/action_plan.html",
        {
            "strategy": strategy,
            "system": strategy.system,
            "rows": selectors.action_rows(strategy),
            "unaddressed": selectors.unaddressed_exceptions(strategy),
            "can_manage": can_manage_actions(request.user, strategy),
            "can_report": can_report_progress(request.user, strategy),
            "sdg_role": sdg_role(request.user, strategy),
        },
    )


def _action_values(form) -> dict:
    data = dict(form.cleaned_data)
    data.pop("version", None)
    data["indicators"] = list(data.get("indicators") or [])
    return data


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request, system_slug: str, strategy_slug: str):
    strategy = _strategy_for(request, system_slug, strategy_slug)
    if not can_manage_actions(request.user, strategy):
        raise PermissionDenied
    form = ActionForm(request.POST or None, strategy=strategy)
    if request.method == "POST" and form.is_valid():
        try:
            action = services.action_create(
                strategy=strategy, user=request.user, values=_action_values(form)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Activity added.")
            return redirect("actions:action_detail", action_id=action.pk)
    return render(
        request,
        "actions/action_form.html",
        {"form": form, "strategy": strategy, "action": None},
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request, action_id: int):
    action = _action_for(request, action_id)
    if not can_manage_actions(request.user, action.strategy):
        raise PermissionDenied
    conflict = None
    if request.method == "POST":
        form = ActionForm(request.POST, strategy=action.strategy, action=action)
        if form.is_valid():
            try:
                services.action_update(
                    action=action,
                    user=request.user,
                    expected_version=form.cleaned_data["version"] or 0,
                    values=_action_values(form),
                )
            except services.EditConflict as error:
                conflict = error
                # Keep what they typed, now against the latest version they have seen.
                data = request.POST.copy()
                data["version"] = error.current.version
                form = ActionForm(data, strategy=action.strategy, action=action)
                form.is_valid()
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Activity saved.")
                return redirect("actions:action_detail", action_id=action.pk)
    else:
        form = ActionForm(
            initial={
                **{f: getattr(action, f) for f in services.ACTION_FIELDS},
                "indicators": list(action.indicators.all()),
                "version": action.version,
            },
            strategy=action.strategy,
            action=action,
        )
    return render(
        request,
        "actions/action_form.html",
        {
            "form": form,
            "strategy": action.strategy,
            "action": action,
            "conflict": conflict,
            "status_code": 409 if conflict else 200,
        },
        status=409 if conflict else 200,
    )


def _detail_context(request, action, **extra) -> dict:
    row = next(
        (r for r in selectors.action_rows(action.strategy) if r.action.pk == action.pk),
        None,
    )
    reports = list(
        ProgressReport.objects.filter(action=action)
        .select_related("cycle__stocktake", "author")
        .order_by("-date", "-position")
    )
    history = (
        selectors.audit_trail(Action, [action.pk], label=lambda r: r.title)
        + selectors.audit_trail(
            ProgressReport,
            [r.pk for r in reports],
            label=lambda r: f"progress update of {r.date:%d %b %Y}",
        )
        + selectors.audit_trail(
            Milestone, [m.milestone.pk for m in row.milestones], label=lambda r: r.title
        )
    )
    history.sort(key=lambda e: e.at, reverse=True)
    context = {
        "action": action,
        "row": row,
        "strategy": action.strategy,
        "reports": reports,
        "history": history,
        "can_manage": can_manage_actions(request.user, action.strategy),
        "can_report": can_report_progress(request.user, action.strategy),
        "progress_form": ProgressForm(
            initial={"status": action.status or None, "rag": action.rag or None}
        ),
        "milestone_form": MilestoneForm(),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def action_detail(request, action_id: int):
    action = _action_for(request, action_id)
    return render(
        request, "actions/action_detail.html", _detail_context(request, action)
    )


@login_required
@require_POST
def progress_create(request, action_id: int):
    action = _action_for(request, action_id)
    if not can_report_progress(request.user, action.strategy):
        raise PermissionDenied
    form = ProgressForm(request.POST)
    if form.is_valid():
        try:
            services.progress_report_create(
                action=action, author=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Progress update added.")
            return redirect("actions:action_detail", action_id=action.pk)
    return render(
        request,
        "actions/action_detail.html",
        _detail_context(request, action, progress_form=form),
        status=400,
    )


@login_required
@require_POST
def milestone_create(request, action_id: int):
    action = _action_for(request, action_id)
    if not can_manage_actions(request.user, action.strategy):
        raise PermissionDenied
    form = MilestoneForm(request.POST)
    if form.is_valid():
        try:
            services.milestone_create(
                action=action, user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Milestone added.")
            return redirect("actions:action_detail", action_id=action.pk)
    return render(
        request,
        "actions/action_detail.html",
        _detail_context(request, action, milestone_form=form),
        status=400,
    )


@login_required
@require_POST
def milestone_complete(request, milestone_id: int):
    milestone = get_object_or_404(
        Milestone.objects.select_related("action__strategy__system"), pk=milestone_id
    )
    if not can_view_strategy(request.user, milestone.action.strategy):
        raise Http404
    if not can_report_progress(request.user, milestone.action.strategy):
        raise PermissionDenied
    services.milestone_complete(milestone=milestone, user=request.user)
    messages.success(request, "Milestone marked as done.")
    return redirect("actions:action_detail", action_id=milestone.action_id)
