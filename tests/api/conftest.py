import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from commissioning.api.auth import api_token_create
from strategies.models import ApiToken


@pytest.fixture
def token_for():
    """token_for(user, scope) -> the token text (as a script would hold it)."""

    def make(user, scope=ApiToken.Scope.READ) -> str:
        _row, token = api_token_create(user=user, name=f"{scope} token", scope=scope)
        return token

    return make


@pytest.fixture
def bearer(token_for):
    """bearer(user, scope) -> an APIClient sending that user's token of that scope."""

    def make(user, scope=ApiToken.Scope.READ) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user, scope)}")
        return client

    return make


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counts live in the cache; ids repeat across rolled-back tests."""
    cache.clear()
    yield
    cache.clear()
