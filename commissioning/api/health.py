"""A trivial authenticated endpoint: a client's check that its token works (and the
benchmark's baseline for what the framework itself costs)."""

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from commissioning.api.schema import NOT_MODIFIED, problems
from commissioning.api.views import ApiView


class PingApi(ApiView):
    @extend_schema(
        tags=["Status"],
        operation_id="ping",
        summary="Check the API and your credentials",
        description="Answers `ok` with your username when your token or session works.",
        responses={
            200: inline_serializer(
                "Ping",
                {"status": serializers.CharField(), "user": serializers.CharField()},
            ),
            304: NOT_MODIFIED,
            **problems(),
        },
        examples=[
            OpenApiExample(
                "Ping", value={"status": "ok", "user": "analyst"}, response_only=True
            )
        ],
    )
    def get(self, request):
        return Response({"status": "ok", "user": request.user.get_username()})
