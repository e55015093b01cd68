"""PostgreSQL enum types: created before the tables using them, dropped after, values added.

Each test builds a database with ``create_all``, compares other models with it, checks the
ops, runs them (as the rendered ``op.execute`` statements would) and compares again.
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import Backend, sync_connection
from sqlalchemy.dialects import postgresql

from amigrate.autogenerate.api import AutogenContext, AutogenOptions
from amigrate.autogenerate.compare.enums import compare_enums
from amigrate.autogenerate.ops import AddEnumValueOp, CreateEnumTypeOp, DropEnumTypeOp, TodoOp
from amigrate.autogenerate.reflect import ReflectedTable, SchemaReflection
from amigrate.operations.ops import MigrateOperation

postgresql_only = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


def compare(
    connection: sa.Connection,
    metadata: sa.MetaData,
    schema: str | None = None,
    **options: Any,
) -> tuple[list[MigrateOperation], list[MigrateOperation]]:
    """What the driver asks once per schema: (ops before the tables, ops after them)."""
    inspector = sa.inspect(connection)
    names = inspector.get_table_names(schema=schema)
    reflection = SchemaReflection(
        tables={(schema, n): ReflectedTable(n, schema) for n in names},
        table_names={schema: set(names)},
        enums={schema: inspector.get_enums(schema=schema or "public")},
    )
    ctx = AutogenContext(connection.dialect, [metadata], connection, AutogenOptions(**options))
    models = [t for t in metadata.sorted_tables if t.schema == schema]
    return compare_enums(ctx, schema, reflection, models)


def run(connection: sa.Connection, ops: list[MigrateOperation]) -> None:
    """The statements the rendered revision executes for these ops."""
    for op in ops:
        if isinstance(op, CreateEnumTypeOp):
            connection.execute(
                postgresql.CreateEnumType(
                    postgresql.ENUM(*op.values, name=op.name, schema=op.schema)
                )
            )
        elif isinstance(op, DropEnumTypeOp):
            connection.execute(
                postgresql.DropEnumType(postgresql.ENUM(*op.values, name=op.name, schema=op.schema))
            )
        elif isinstance(op, AddEnumValueOp):
            where = f" BEFORE '{op.before}'" if op.before else ""
            where += f" AFTER '{op.after}'" if op.after else ""
            connection.exec_driver_sql(f"ALTER TYPE {op.name} ADD VALUE '{op.value}'{where}")
        else:
            raise AssertionError(op)


def labels(connection: sa.Connection, schema: str = "public") -> dict[str, list[str]]:
    return {e["name"]: e["labels"] for e in sa.inspect(connection).get_enums(schema=schema)}


def table(metadata: sa.MetaData, name: str, *columns: Any, schema: str | None = None) -> sa.Table:
    return sa.Table(
        name, metadata, sa.Column("id", sa.Integer, primary_key=True), *columns, schema=schema
    )


class Colour(enum.Enum):
    red = 1
    green = 2


@postgresql_only
def test_no_false_diffs_right_after_create_all(backend: Backend) -> None:
    metadata = sa.MetaData()
    table(
        metadata,
        "shirt",
        sa.Column("size", sa.Enum("s", "m", "l", name="size")),
        sa.Column("colour", sa.Enum(Colour)),
        sa.Column("mood", postgresql.ENUM("ok", "meh", name="mood")),
        sa.Column("tags", postgresql.ARRAY(sa.Enum("new", "old", name="tag"))),
        sa.Column("plain", sa.Enum("a", "b", native_enum=False)),
    )
    with sync_connection(backend.sync_url, begin=True) as connection:
        metadata.create_all(connection)
        assert compare(connection, metadata) == ([], [])


@postgresql_only
def test_a_new_type_is_created_before_the_tables(backend: Backend) -> None:
    metadata = sa.MetaData()
    table(metadata, "shirt", sa.Column("tags", postgresql.ARRAY(sa.Enum("x", "y", name="tag"))))
    table(metadata, "hat", sa.Column("size", sa.Enum("s", "m", name="size")))
    with sync_connection(backend.sync_url, begin=True) as connection:
        before, after = compare(connection, metadata)
        assert sorted((type(op), op.name, op.values) for op in before) == [  # type: ignore[attr-defined]
            (CreateEnumTypeOp, "size", ("s", "m")),
            (CreateEnumTypeOp, "tag", ("x", "y")),
        ]
        assert after == []
        run(connection, before)
        assert labels(connection) == {"size": ["s", "m"], "tag": ["x", "y"]}
        assert compare(connection, metadata) == ([], [])
        run(connection, [op.reverse() for op in reversed(before)])
        assert labels(connection) == {}


@postgresql_only
def test_new_values_are_added_where_the_model_puts_them(backend: Backend) -> None:
    old, new = sa.MetaData(), sa.MetaData()
    table(old, "shirt", sa.Column("size", sa.Enum("m", "l", name="size")))
    table(new, "shirt", sa.Column("size", sa.Enum("xs", "s", "m", "xl", "l", "xxl", name="size")))
    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        before, after = compare(connection, new)
        assert [(op.value, op.before, op.after) for op in before] == [  # type: ignore[attr-defined]
            ("xs", "m", None),
            ("s", None, "xs"),
            ("xl", None, "m"),
            ("xxl", None, None),
        ]
        assert all(isinstance(op, AddEnumValueOp) for op in before)
        assert after == []
        run(connection, before)
        assert labels(connection)["size"] == ["xs", "s", "m", "xl", "l", "xxl"]
        assert compare(connection, new) == ([], [])
        assert all(isinstance(op.reverse(), TodoOp) for op in before)


@pytest.mark.parametrize(
    "values", [pytest.param(("m",), id="removed"), pytest.param(("l", "m"), id="reordered")]
)
@postgresql_only
def test_removed_or_reordered_values_are_left_to_the_reviewer(
    backend: Backend, values: tuple[str, ...]
) -> None:
    old, new = sa.MetaData(), sa.MetaData()
    table(old, "shirt", sa.Column("size", sa.Enum("m", "l", name="size")))
    table(new, "shirt", sa.Column("size", sa.Enum(*values, name="size")))
    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        before, after = compare(connection, new)
    (note,) = before
    assert isinstance(note, TodoOp)
    assert "size" in note.text and "cannot remove or reorder" in note.text
    assert after == []


@postgresql_only
def test_a_type_no_column_uses_any_more_is_dropped_after_the_tables(backend: Backend) -> None:
    old, new = sa.MetaData(), sa.MetaData()
    table(old, "shirt", sa.Column("size", sa.Enum("s", "m", name="size")))
    table(old, "hat", sa.Column("brim", sa.Enum("wide", "narrow", name="brim")))
    table(new, "shirt", sa.Column("size", sa.String(5)))  # column retyped, table "hat" dropped
    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        before, after = compare(connection, new)
        assert before == []
        assert sorted((type(op), op.name) for op in after) == [  # type: ignore[attr-defined]
            (DropEnumTypeOp, "brim"),
            (DropEnumTypeOp, "size"),
        ]
        connection.exec_driver_sql("DROP TABLE hat")
        connection.exec_driver_sql("ALTER TABLE shirt ALTER COLUMN size TYPE varchar(5)")
        run(connection, after)
        assert labels(connection) == {}
        assert compare(connection, new) == ([], [])
        run(connection, [op.reverse() for op in reversed(after)])
        assert labels(connection) == {"brim": ["wide", "narrow"], "size": ["s", "m"]}


@postgresql_only
def test_a_type_still_used_by_a_table_left_alone_is_kept(backend: Backend) -> None:
    old, new = sa.MetaData(), sa.MetaData()
    table(old, "shirt", sa.Column("size", sa.Enum("s", "m", name="size")))
    table(old, "legacy", sa.Column("brim", sa.Enum("wide", "narrow", name="brim")))
    table(new, "shirt")

    def include_object(obj: Any, name: str, type_: str, reflected: bool, compare_to: Any) -> bool:
        return not (type_ == "table" and name == "legacy")

    with sync_connection(backend.sync_url, begin=True) as connection:
        old.create_all(connection)
        connection.exec_driver_sql("CREATE VIEW sizes AS SELECT size FROM shirt")
        assert compare(connection, new, include_object=include_object) == ([], [])
        connection.exec_driver_sql("DROP VIEW sizes")
        _, after = compare(connection, new, include_object=include_object)
        assert [op.name for op in after] == ["size"]  # type: ignore[attr-defined]


@postgresql_only
def test_types_of_another_schema(backend: Backend) -> None:
    metadata = sa.MetaData()
    table(
        metadata,
        "shirt",
        sa.Column("size", sa.Enum("s", "m", name="size", schema="shop")),
        schema="shop",
    )
    with sync_connection(backend.sync_url, begin=True) as connection:
        connection.exec_driver_sql("CREATE SCHEMA shop")
        assert compare(connection, metadata) == ([], [])
        before, _ = compare(connection, metadata, "shop")
        assert [(op.name, op.schema) for op in before] == [("size", "shop")]  # type: ignore[attr-defined]
        run(connection, before)
        metadata.create_all(connection, checkfirst=True)
        assert compare(connection, metadata, "shop") == ([], [])


@postgresql_only
def test_a_table_in_another_schema_uses_a_type_of_the_default_schema(backend: Backend) -> None:
    metadata = sa.MetaData()
    table(metadata, "shirt", sa.Column("size", sa.Enum("s", "m", name="size")), schema="shop")
    with sync_connection(backend.sync_url, begin=True) as connection:
        connection.exec_driver_sql("CREATE SCHEMA shop")
        before, _ = compare(connection, metadata)
        assert [(op.name, op.schema) for op in before] == [("size", None)]  # type: ignore[attr-defined]
        assert compare(connection, metadata, "shop") == ([], [])
        metadata.create_all(connection)
        assert compare(connection, metadata) == ([], [])


def test_nothing_on_sqlite(tmp_path: Any) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    metadata = sa.MetaData()
    table(metadata, "shirt", sa.Column("size", sa.Enum("s", "m", name="size")))
    with engine.connect() as connection:
        ctx = AutogenContext(connection.dialect, [metadata], connection)
        assert compare_enums(ctx, None, SchemaReflection(), list(metadata.tables.values())) == (
            [],
            [],
        )
    engine.dispose()
