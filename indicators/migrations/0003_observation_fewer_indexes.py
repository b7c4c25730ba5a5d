"""Drop the single-column indexes on Observation.area and Observation.period.

Each index costs every value a return loads; nothing reads values by area or by period
alone (the reads lead with the indicator, served by the (indicator, area, is_current)
index and the one-current-value unique index). The foreign keys stay as they are: only
the indexes go (Django's own AlterField would drop and re-add, so re-validate, both
foreign keys on the whole table), so the database operation is a DROP INDEX found by
introspection, and the reverse re-creates it.
"""

import django.db.models.deletion
from django.db import migrations, models

COLUMNS = ("area_id", "period_id")


def _plain_indexes(schema_editor, table: str, column: str) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(
            cursor, table
        )
    return [
        name
        for name, info in constraints.items()
        if info["index"]
        and info["columns"] == [column]
        and not info["unique"]
        and not info["primary_key"]
        and not info["foreign_key"]
    ]


def drop_indexes(apps, schema_editor):
    model = apps.get_model("indicators", "Observation")
    table = model._meta.db_table
    for column in COLUMNS:
        for name in _plain_indexes(schema_editor, table, column):
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def create_indexes(apps, schema_editor):
    model = apps.get_model("indicators", "Observation")
    table = model._meta.db_table
    for column in COLUMNS:
        if _plain_indexes(schema_editor, table, column):
            continue
        field = model._meta.get_field(column.removesuffix("_id"))
        schema_editor.execute(
            schema_editor._create_index_sql(model, fields=[field], suffix="")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0002_returns"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="observation",
                    name="area",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="observations",
                        to="indicators.area",
                    ),
                ),
                migrations.AlterField(
                    model_name="observation",
                    name="period",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="observations",
                        to="indicators.period",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_indexes, create_indexes),
            ],
        ),
    ]
