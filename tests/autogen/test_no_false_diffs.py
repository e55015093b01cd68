"""A 200-table model using every standard SQLAlchemy type produces no false differences on
either backend right after create_all.

The tables cycle through every standard type the backend can create, with server
defaults, indexes, unique constraints, foreign keys, check constraints, comments, enums,
generated and identity columns; comparing the untouched models must give no op at all,
with every comparator (indexes, foreign keys, checks and enums included) and server
default comparison on.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa
from _envfactory import Backend, sync_connection
from sqlalchemy.dialects import postgresql as pg

from amigrate.autogenerate.api import AutogenContext, AutogenOptions
from amigrate.autogenerate.compare import compare_schema
from amigrate.autogenerate.reflect import reflect

TABLES = 200

COMMON_TYPES: list[Any] = [
    sa.String(40),
    sa.String(),
    sa.Text(),
    sa.Unicode(30),
    sa.UnicodeText(),
    sa.Integer(),
    sa.SmallInteger(),
    sa.BigInteger(),
    sa.Numeric(10, 2),
    sa.Numeric(),
    sa.Float(),
    sa.Float(10),
    sa.Float(53),
    sa.Double(),
    sa.Boolean(),
    sa.Boolean(create_constraint=True, name="ck_flag"),
    sa.Date(),
    sa.DateTime(),
    sa.DateTime(timezone=True),
    sa.Time(),
    sa.Interval(),
    sa.LargeBinary(),
    sa.JSON(),
    sa.Uuid(),
    sa.Uuid(as_uuid=False),
    sa.Enum("red", "green", "blue", name="colour"),
    sa.Enum("s", "m", "l", name="tshirt", native_enum=False),
    sa.PickleType(),
    sa.TIMESTAMP(),
    sa.TIMESTAMP(timezone=True),
    sa.CHAR(),
    sa.CHAR(5),
    sa.NCHAR(5),
    sa.REAL(),
    sa.DECIMAL(8, 3),
    sa.DECIMAL(),
    sa.VARCHAR(12),
    sa.INTEGER(),
    sa.BOOLEAN(),
    sa.TEXT(),
    sa.FLOAT(),
    sa.NUMERIC(5),
    sa.SMALLINT(),
    sa.BIGINT(),
    sa.DATE(),
    sa.TIME(),
    sa.DOUBLE_PRECISION(),
    sa.String(20).with_variant(sa.Text(), "postgresql"),
]
BACKEND_TYPES: dict[str, list[Any]] = {
    "sqlite": [
        sa.NVARCHAR(10),
        sa.CLOB(),
        sa.BLOB(),
        sa.DATETIME(),
        sa.DOUBLE(),
        sa.VARBINARY(16),
        sa.BINARY(16),
    ],
    "postgresql": [
        pg.JSONB(),
        pg.ARRAY(sa.Integer),
        sa.ARRAY(sa.String(10)),
        pg.INET(),
        pg.CIDR(),
        pg.UUID(),
        pg.INTERVAL(fields="DAY"),
        pg.TIMESTAMP(precision=3),
        pg.TIME(timezone=True),
        pg.BYTEA(),
        pg.MONEY(),
        pg.TSVECTOR(),
        pg.BIT(3),
        pg.INT4RANGE(),
        pg.ENUM("on", "off", name="switch"),
    ],
}
DEFAULTS: list[tuple[Any, Any]] = [
    (sa.String(20), "hello"),
    (sa.String(20), "it's"),
    (sa.Text(), sa.text("'text'")),
    (sa.Integer(), "7"),
    (sa.Integer(), sa.text("-1")),
    (sa.Numeric(10, 2), "1.50"),
    (sa.Float(), sa.text("2.5")),
    (sa.Boolean(), sa.true()),
    (sa.Boolean(), sa.text("false")),
    (sa.DateTime(), sa.func.now()),
    (sa.DateTime(timezone=True), sa.text("CURRENT_TIMESTAMP")),
    (sa.Date(), sa.func.current_date()),
    (sa.Date(), "2020-01-01"),
    (sa.Enum("red", "green", "blue", name="colour"), "red"),
    (sa.Integer(), sa.text("(1 + 2)")),
    (sa.String(20), sa.func.lower("ABC")),
]


def build_models(backend_name: str) -> sa.MetaData:
    """TABLES tables, each with a few typed columns and one of every other feature in turn."""
    metadata = sa.MetaData()
    types = COMMON_TYPES + BACKEND_TYPES[backend_name]
    for n in range(TABLES):
        columns: list[Any] = [sa.Column("id", sa.Integer, primary_key=True)]
        for k in range(3):
            type_ = types[(n * 3 + k) % len(types)]
            columns.append(sa.Column(f"c{k}", _fresh(type_, n), nullable=bool(k % 2)))
        default_type, default = DEFAULTS[n % len(DEFAULTS)]
        columns.append(sa.Column("d", _fresh(default_type, n), server_default=default))
        columns.append(sa.Column("code", sa.String(20), comment=f"code of row {n}"))
        columns.extend(_extras(metadata, n))
        sa.Table(f"t{n:03}", metadata, *columns, comment=f"table {n}" if n % 4 == 0 else None)
    for add_tables in BACKEND_TABLES[backend_name]:
        add_tables(metadata)
    return metadata


def _identity_tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "with_identity",
        metadata,
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("n", sa.Integer, sa.Identity(always=True, start=5), nullable=False),
    )
    sa.Table(
        "serial_keys",
        metadata,
        sa.Column("a", sa.BigInteger, primary_key=True),
        sa.Column("b", sa.String(5), primary_key=True),
        schema="public",
    )


BACKEND_TABLES: dict[str, list[Any]] = {"sqlite": [], "postgresql": [_identity_tables]}


def _fresh(type_: Any, n: int) -> Any:
    """A copy of ``type_``; named constraints and enums stay unique per table where needed."""
    if isinstance(type_, sa.Boolean) and type_.create_constraint:
        return sa.Boolean(create_constraint=True, name=f"ck_flag_{n}")
    if isinstance(type_, sa.Enum) and not type_.native_enum:
        return sa.Enum(*type_.enums, name=f"tshirt_{n}", native_enum=False)
    return type_


def _extras(metadata: sa.MetaData, n: int) -> list[Any]:
    """One more feature per table, in turn: FK, index, unique, check, generated column, ..."""
    kind = n % 6
    if kind == 0:
        if n == 0:
            return []
        return [sa.Column("parent_id", sa.ForeignKey(f"t{n - 6:03}.id", ondelete="CASCADE"))]
    if kind == 1:
        return [sa.Column("indexed", sa.Integer, index=True), sa.Index(f"ix_{n}", "code", "id")]
    if kind == 2:
        return [sa.Column("uniq", sa.String(10), unique=True), sa.UniqueConstraint("code", "id")]
    if kind == 3:
        return [sa.Column("amount", sa.Integer), sa.CheckConstraint("amount > 0", name=f"ck_{n}")]
    if kind == 4:
        return [
            sa.Column("base", sa.Integer),
            sa.Column("twice", sa.Integer, sa.Computed("base * 2", persisted=True)),
        ]
    return [sa.Column("ref", sa.Integer), sa.ForeignKeyConstraint(["ref"], [f"t{n - 5:03}.id"])]


def test_every_standard_type_reads_back_unchanged(backend: Backend) -> None:
    with sync_connection(backend.sync_url, begin=True) as conn:
        build_models(backend.name).create_all(conn)
        started = time.perf_counter()
        ctx = AutogenContext(
            dialect=conn.dialect,
            metadata=[build_models(backend.name)],
            connection=conn,
            opts=AutogenOptions(compare_server_default=True),
        )
        upgrade = compare_schema(ctx, reflect(ctx))
        elapsed = time.perf_counter() - started

    assert upgrade.ops == [], _describe(upgrade.ops)
    assert elapsed < 10


def _describe(ops: list[Any]) -> str:
    lines = []
    for op in ops:
        for inner in getattr(op, "ops", [op]):
            lines.append(repr(inner)[:300])
    return "\n".join(lines[:40])


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_the_model_covers_every_type(backend_name: str) -> None:
    metadata = build_models(backend_name)
    used = {repr(c.type) for t in metadata.tables.values() for c in t.columns}
    types = COMMON_TYPES + BACKEND_TYPES[backend_name]
    assert len(metadata.tables) >= TABLES
    assert len([t for t in types if repr(t) in used]) >= len(types) - 2
