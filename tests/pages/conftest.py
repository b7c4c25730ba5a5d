import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_page_cache():
    """Each test starts with an empty page cache: a test's rolled-back writes must not
    leave pages cached for the next one (ids are reused after a rollback on SQLite)."""
    cache.clear()
    yield
    cache.clear()
