"""Backup and restore as docs/operations.md describes it: pg_dump (custom format) of a
database holding the seed data and its computed scorecard, pg_restore into a new database,
and the same scorecard comes back: every SeriesResult and ExceptionFlag row, field for
field, and the same pages' figures."""

import shutil
import subprocess
import uuid

import psycopg
import pytest
from django.db import connection

from scorecard.models import ExceptionFlag, SeriesResult

pytestmark = pytest.mark.postgres


def _libpq_args(settings_dict) -> tuple[list[str], dict]:
    args = [
        "-h",
        settings_dict["HOST"] or "127.0.0.1",
        "-p",
        str(settings_dict["PORT"] or 5432),
        "-U",
        settings_dict["USER"] or "postgres",
    ]
    env = {"PGPASSWORD": settings_dict["PASSWORD"] or ""}
    return args, env


def _rows(conninfo: dict, table: str) -> list[tuple]:
    with psycopg.connect(**conninfo) as conn, conn.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{table}" ORDER BY id')  # noqa: S608 (model table)
        return cursor.fetchall()


def _conninfo(settings_dict, dbname: str) -> dict:
    return {
        "host": settings_dict["HOST"] or "127.0.0.1",
        "port": settings_dict["PORT"] or 5432,
        "user": settings_dict["USER"] or "postgres",
        "password": settings_dict["PASSWORD"] or None,
        "dbname": dbname,
        "autocommit": True,
    }


@pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs pg_dump")
def test_a_dump_restored_into_a_new_database_gives_the_same_scorecard(db, tmp_path):
    import os

    settings_dict = connection.settings_dict
    source = settings_dict["NAME"]
    restored = f"{source}_restore_{uuid.uuid4().hex[:8]}"
    args, env = _libpq_args(settings_dict)
    env = {**os.environ, **env}
    dump = tmp_path / "scorecard.dump"
    tables = [SeriesResult._meta.db_table, ExceptionFlag._meta.db_table]
    # The seed (loaded and recomputed once per session) is committed; a test's own
    # writes are not, and pg_dump would not see them, so the comparison is of the seed.
    original = {
        table: _rows(_conninfo(settings_dict, source), table) for table in tables
    }
    assert original[tables[0]], "no scorecard to compare"
    assert original[tables[1]], "no exception flags to compare"

    subprocess.run(  # noqa: S603 (fixed programs, arguments from settings)
        [
            shutil.which("pg_dump"),
            *args,
            "--format=custom",
            "--no-owner",
            f"--file={dump}",
            source,
        ],
        env=env,
        check=True,
        timeout=300,
    )
    admin = _conninfo(settings_dict, "postgres")
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{restored}"')
    try:
        subprocess.run(  # noqa: S603 (fixed programs, arguments from settings)
            [shutil.which("pg_restore"), *args, "--no-owner", "--exit-on-error", "-d", restored,
             str(dump)],
            env=env,
            check=True,
            timeout=300,
        )  # fmt: skip
        copy = {
            table: _rows(_conninfo(settings_dict, restored), table) for table in tables
        }
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{restored}" WITH (FORCE)')

    for table in tables:
        assert copy[table] == original[table], table
