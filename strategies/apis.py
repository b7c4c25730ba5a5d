"""Commissioning systems and their frameworks: strategies (or priority areas) with the
items at each of the system's levels (Plymouth's aims and elements, Torbay and South
Devon's delivery milestones). Only systems the user holds a role in; others are 404."""

from __future__ import annotations

from django.db.models import Max, Prefetch
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from commissioning.api.access import visible_system_or_404
from commissioning.api.schema import PAGE_PARAMETERS, paginated, read_responses
from commissioning.api.views import ApiView
from strategies.models import (
    CommissioningSystem,
    FrameworkItem,
    FrameworkLevel,
    Strategy,
)
from strategies.permissions import systems_visible_to

TAG = "Systems and strategies"


class LevelSerializer(serializers.ModelSerializer):
    class Meta:
        model = FrameworkLevel
        fields = ["slug", "name", "name_plural", "position"]


class SystemSerializer(serializers.ModelSerializer):
    home_area = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    levels = LevelSerializer(many=True, read_only=True)

    class Meta:
        model = CommissioningSystem
        fields = [
            "slug",
            "name",
            "short_name",
            "description",
            "strategy_label",
            "strategy_label_plural",
            "home_area",
            "levels",
            "source",
        ]


class FrameworkItemSerializer(serializers.ModelSerializer):
    level = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = FrameworkItem
        fields = [
            "id",
            "level",
            "key",
            "number",
            "title",
            "text",
            "due_label",
            "due_date",
            "position",
        ]


class StrategySerializer(serializers.ModelSerializer):
    system = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    items = FrameworkItemSerializer(
        many=True,
        read_only=True,
        help_text="Aims, elements or milestones: each names its level (see the system)",
    )
    spend_gbp_m = serializers.DecimalField(
        max_digits=12, decimal_places=2, coerce_to_string=False, allow_null=True
    )

    class Meta:
        model = Strategy
        fields = [
            "system",
            "slug",
            "number",
            "name",
            "vision",
            "scope",
            "spend_gbp_m",
            "spend_year",
            "horizon",
            "source",
            "items",
        ]


SYSTEM_EXAMPLE = {
    "slug": "plymouth",
    "name": "Plymouth integrated commissioning",
    "short_name": "Plymouth",
    "description": "",
    "strategy_label": "Strategy",
    "strategy_label_plural": "Strategies",
    "home_area": "E06000026",
    "levels": [
        {
            "slug": "aim",
            "name": "Strategy aim",
            "name_plural": "Strategy aims",
            "position": 0,
        },
        {
            "slug": "element",
            "name": "System element",
            "name_plural": "System elements",
            "position": 1,
        },
    ],
    "source": "001",
}
STRATEGY_EXAMPLE = {
    "system": "plymouth",
    "slug": "wellbeing",
    "number": 1,
    "name": "Wellbeing",
    "vision": "Healthy, happy and aspiring communities",
    "scope": "",
    "spend_gbp_m": 12.5,
    "spend_year": "2017/18",
    "horizon": "",
    "source": "001",
    "items": [
        {
            "id": 1,
            "level": "aim",
            "key": "1",
            "number": 1,
            "title": "Reduce health inequalities",
            "text": "",
            "due_label": "",
            "due_date": None,
            "position": 0,
        }
    ],
}


def _systems(user):
    return (
        systems_visible_to(user)
        .select_related("home_area")
        .prefetch_related(
            Prefetch("levels", queryset=FrameworkLevel.objects.order_by("position"))
        )
    )


def _strategies(system):
    return (
        Strategy.objects.filter(system=system)
        .select_related("system")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=FrameworkItem.objects.select_related("level").order_by(
                    "level__position", "position"
                ),
            )
        )
        .order_by("number")
    )


class SystemListApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="systems_list",
        summary="The commissioning systems you hold a role in",
        description=(
            "Each system with what it calls its strategies (Strategy, Priority area) and "
            "the levels of its framework below them. Paginated; three queries however "
            "many systems."
        ),
        parameters=PAGE_PARAMETERS,
        responses=read_responses(paginated(SystemSerializer), 404),
        examples=[OpenApiExample("Systems", value=SYSTEM_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        queryset = _systems(request.user).order_by("position", "name")
        self.last_modified = queryset.aggregate(m=Max("updated_at"))["m"]
        return self.paginate(queryset, SystemSerializer)


class SystemDetailApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="systems_retrieve",
        summary="One commissioning system",
        description="The system and its framework levels. 404 for a system you hold no role in.",
        responses=read_responses(SystemSerializer, 404),
        examples=[OpenApiExample("System", value=SYSTEM_EXAMPLE, response_only=True)],
    )
    def get(self, request, system: str):
        found = visible_system_or_404(request.user, system)
        found = _systems(request.user).get(pk=found.pk)
        self.last_modified = found.updated_at
        return Response(SystemSerializer(found).data)


class StrategyListApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="strategies_list",
        summary="A system's strategies (or priority areas) with their aims and elements",
        description=(
            "Every strategy of the system in order, each with the items at each of the "
            "system's levels (Plymouth: strategy aims and system elements; Torbay and "
            "South Devon: delivery milestones). Paginated; three queries however many."
        ),
        parameters=PAGE_PARAMETERS,
        responses=read_responses(paginated(StrategySerializer), 404),
        examples=[
            OpenApiExample("Strategies", value=STRATEGY_EXAMPLE, response_only=True)
        ],
    )
    def get(self, request, system: str):
        found = visible_system_or_404(request.user, system)
        queryset = _strategies(found)
        self.last_modified = queryset.aggregate(m=Max("updated_at"))["m"]
        return self.paginate(queryset, StrategySerializer)


class StrategyDetailApi(ApiView):
    @extend_schema(
        tags=[TAG],
        operation_id="strategies_retrieve",
        summary="One strategy with its aims and elements",
        description="404 when the system is not yours or has no such strategy.",
        responses=read_responses(StrategySerializer, 404),
        examples=[
            OpenApiExample("Strategy", value=STRATEGY_EXAMPLE, response_only=True)
        ],
    )
    def get(self, request, system: str, strategy: str):
        found = visible_system_or_404(request.user, system)
        item = _strategies(found).filter(slug=strategy).first()
        if item is None:
            raise NotFound
        self.last_modified = item.updated_at
        return Response(StrategySerializer(item).data)
