"""docker-compose.yml describes a complete deployment. No container engine runs here, so
`docker compose config` cannot; the structure is checked instead: the services, their
commands, health checks, volumes and queues, and that .env.example documents every
setting the application reads."""

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "ingest-worker", "beat"]
LONG_RUNNING = ["web", "worker", "ingest-worker", "beat", "postgres", "redis"]


def _command(service: str) -> list[str]:
    command = SERVICES[service]["command"]
    return command if isinstance(command, list) else command.split()


def _queues(service: str) -> set[str]:
    command = _command(service)
    return set(command[command.index("-Q") + 1].split(","))


def test_every_part_of_the_deployment_is_there():
    assert set(SERVICES) == {*APP_SERVICES, "postgres", "redis"}
    assert SERVICES["postgres"]["image"].startswith("postgres:")
    assert SERVICES["redis"]["image"].startswith("redis:")
    assert _command("web")[0] == "gunicorn"
    assert _command("worker")[:4] == ["celery", "-A", "commissioning", "worker"]
    assert _command("beat")[:4] == ["celery", "-A", "commissioning", "beat"]
    assert _command("migrate")[-2:] == ["migrate", "--noinput"]


# Ids are prefixed: a bare "postgres" id would read as the postgres marker.
@pytest.mark.parametrize("service", LONG_RUNNING, ids=lambda s: f"service-{s}")
def test_long_running_services_have_health_checks_and_restart(service):
    check = SERVICES[service]["healthcheck"]
    assert check["test"][0] in {"CMD", "CMD-SHELL"}
    assert {"interval", "timeout", "retries"} <= set(check)
    assert SERVICES[service]["restart"] == "unless-stopped"


def test_web_probe_is_the_liveness_endpoint():
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_take_their_environment_from_dotenv(service):
    definition = SERVICES[service]
    assert definition["env_file"] == ".env"
    assert definition["environment"]["DJANGO_ENV"] == "production"
    assert definition["environment"]["DATABASE_URL"].startswith("postgres://")
    assert definition["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:")
    assert "files:/data/files" in definition["volumes"]


def test_app_services_wait_for_healthy_databases_and_migrations():
    for service in ["web", "worker", "ingest-worker", "beat"]:
        depends = SERVICES[service]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["migrate"]["restart"] == "no"


def test_data_lives_in_named_volumes():
    assert set(COMPOSE["volumes"]) == {"pgdata", "redisdata", "files"}
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["postgres"]["volumes"]
    assert "redisdata:/data" in SERVICES["redis"]["volumes"]
    assert "--appendonly" in SERVICES["redis"]["command"]


def test_the_workers_consume_every_queue_the_tasks_are_routed_to():
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    declared = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    consumed = _queues("worker") | _queues("ingest-worker")

    assert routed == {"ingest", "recompute", "reports"}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} == declared
    assert declared <= consumed
    assert _queues("ingest-worker") == {"ingest"}  # uploads never wait behind flags


def test_the_existing_tasks_go_to_their_queues():
    import indicators.tasks
    import scorecard.tasks  # noqa: F401 (registers the tasks)
    from commissioning.celery import app

    assert indicators.tasks.validate_import_job.name in app.tasks
    router = app.amqp.router
    expected = {
        "scorecard.recompute_queued": "recompute",
        "scorecard.recompute_all": "recompute",
        "scorecard.send_workflow_reminders": "reports",
        "indicators.tasks.validate_import_job": "ingest",
        "indicators.tasks.commit_import_job": "ingest",
    }
    for task_name, queue in expected.items():
        assert task_name in app.tasks, task_name
        assert router.route({}, task_name)["queue"].name == queue, task_name


def test_the_image_runs_unprivileged_with_a_health_check():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER scorecard$", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile
    assert "collectstatic" in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".git", ".venv", "var", "node_modules"} <= set(ignored)


def test_env_example_documents_every_setting_read_from_the_environment():
    source = (ROOT / "commissioning" / "settings.py").read_text()
    read = set(
        re.findall(r'(?:env\.[a-z_]+\(\s*|_required\(\s*)"([A-Z][A-Z0-9_]*)"', source)
    )
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", example, re.M))
    compose_vars = set(
        re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text())
    )

    assert read, "the pattern found no settings at all"
    assert read - documented == set()
    assert compose_vars - documented == set()
