import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check(env_overrides):
    env = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DATABASE_URL"}
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = _check({"DJANGO_ENV": "production", "ALLOWED_HOSTS": "example.org"})

    assert result.returncode != 0
    assert "SECRET_KEY is required when DJANGO_ENV=production" in result.stderr


def test_production_names_the_missing_database_url():
    result = _check(
        {
            "DJANGO_ENV": "production",
            "SECRET_KEY": "x" * 60,
            "ALLOWED_HOSTS": "example.org",
        }
    )

    assert result.returncode != 0
    assert "DATABASE_URL is required" in result.stderr


def test_development_starts_with_embedded_defaults():
    result = _check({"DJANGO_ENV": "development"})

    assert result.returncode == 0, result.stderr
