"""amigrate.ddl without a database: dialect lookup, the two sinks, the version table."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateTable

from amigrate.ddl import impl_for
from amigrate.ddl.elements import InlineLiteral
from amigrate.ddl.impl import DefaultImpl
from amigrate.ddl.postgresql import PostgresqlImpl
from amigrate.ddl.sink import ConnectionSink, ScriptSink, offline_dialect
from amigrate.ddl.sqlite import SQLiteImpl

LIST_MODULES = """
import json, sys
from amigrate.ddl import impl_for
impl_for(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("amigrate.ddl"))))
"""


@pytest.mark.parametrize(
    ("name", "loaded", "not_loaded"),
    [
        ("postgresql", "amigrate.ddl.postgresql", "amigrate.ddl.sqlite"),
        ("sqlite", "amigrate.ddl.sqlite", "amigrate.ddl.postgresql"),
    ],
)
def test_impl_for_imports_only_the_dialect_asked_for(
    name: str, loaded: str, not_loaded: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LIST_MODULES, name],
        capture_output=True,
        text=True,
        check=True,
    )
    modules = json.loads(result.stdout)

    assert loaded in modules
    assert not_loaded not in modules


def test_impl_for_known_driver_and_unknown_dialects() -> None:
    assert impl_for("postgresql") is PostgresqlImpl
    assert impl_for("postgresql+asyncpg") is PostgresqlImpl
    assert impl_for("sqlite") is SQLiteImpl
    assert impl_for("firebird") is DefaultImpl


def test_postgresql_and_sqlite_run_ddl_in_transactions() -> None:
    assert PostgresqlImpl.transactional_ddl
    assert SQLiteImpl.transactional_ddl
    assert not DefaultImpl.transactional_ddl


def script_impl(
    dialect_name: str = "postgresql", **sink_options: object
) -> tuple[DefaultImpl, io.StringIO]:
    output = io.StringIO()
    dialect = offline_dialect(dialect_name)
    sink = ScriptSink(dialect, output, **sink_options)  # type: ignore[arg-type]
    return impl_for(dialect_name)(dialect, sink), output


def test_script_sink_writes_statement_terminator_and_blank_line() -> None:
    impl, output = script_impl()

    impl.execute("SELECT 1")
    impl.rename_table("a", "b")

    assert output.getvalue() == "SELECT 1;\n\nALTER TABLE a RENAME TO b;\n\n"


def test_script_sink_terminator_and_comments() -> None:
    impl, output = script_impl(terminator="\nGO")
    assert isinstance(impl.sink, ScriptSink)

    impl.sink.comment("Running upgrade a1 -> b2\nsecond line")
    impl.execute("SELECT 1")

    assert output.getvalue() == "-- Running upgrade a1 -> b2\n-- second line\n\nSELECT 1\nGO\n\n"


def test_begin_and_commit_are_written_offline() -> None:
    impl, output = script_impl()

    impl.emit_begin()
    impl.execute("SELECT 1")
    impl.emit_commit()

    assert output.getvalue() == "BEGIN;\n\nSELECT 1;\n\nCOMMIT;\n\n"


def test_script_sink_renders_values_and_rejects_parameters() -> None:
    impl, output = script_impl()

    impl.execute(sa.text("SELECT :v, '50%'").bindparams(v="it's"))
    with pytest.raises(ValueError, match="bound parameters"):
        impl.sink.execute(sa.text("SELECT :v"), {"v": 1})

    assert output.getvalue() == "SELECT 'it''s', '50%';\n\n"


def test_script_sink_can_leave_placeholders() -> None:
    impl, output = script_impl("sqlite", literal_binds=False)

    impl.execute(sa.text("SELECT :v").bindparams(v=1))

    assert output.getvalue() == "SELECT :v;\n\n"


def test_inline_literal_is_rendered_even_without_literal_binds() -> None:
    impl, output = script_impl(literal_binds=False)
    table = sa.table("t", sa.column("name", sa.String))

    impl.execute(table.update().values(name=InlineLiteral("x")))

    assert output.getvalue() == "UPDATE t SET name='x';\n\n"


def test_connection_sink_executes_and_returns_results() -> None:
    engine = sa.create_engine("sqlite://", poolclass=NullPool)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with engine.connect() as connection:
        impl = impl_for("sqlite")(connection.dialect, ConnectionSink(connection))
        impl.emit_begin()  # online, the runtime's transaction does this
        result = impl.execute(sa.text("SELECT :v + 1").bindparams(v=1))
        raw = impl.sink.execute("SELECT 5")

        assert result is not None and result.scalar_one() == 2
        assert raw is not None and raw.scalar_one() == 5
        assert not impl.as_sql
        assert impl.connection is connection
    engine.dispose()

    assert statements == ["SELECT ? + 1", "SELECT 5"]


@pytest.mark.parametrize("dialect_name", ["postgresql", "sqlite"])
@pytest.mark.parametrize("schema", [None, "meta"])
def test_version_table_has_alembics_shape(dialect_name: str, schema: str | None) -> None:
    dialect = offline_dialect(dialect_name)
    impl = impl_for(dialect_name)(dialect, ScriptSink(dialect, io.StringIO()))
    alembic = MigrationContext.configure(
        dialect_name=dialect_name,
        opts={"as_sql": True, "version_table_schema": schema, "output_buffer": io.StringIO()},
    )
    ours = impl.version_table("alembic_version", schema)

    assert str(CreateTable(ours).compile(dialect=dialect)) == str(
        CreateTable(alembic._version).compile(dialect=dialect)
    )
    assert ours.primary_key.name == "alembic_version_pkc"


def test_offline_dialect_takes_names_and_urls() -> None:
    assert offline_dialect("postgresql").paramstyle == "named"
    assert offline_dialect("postgresql+asyncpg://u@h/db").driver == "asyncpg"
    assert offline_dialect("sqlite", paramstyle="qmark").paramstyle == "qmark"


def test_inline_literal_is_not_cached_with_its_first_value() -> None:
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    table = sa.table("t", sa.column("name", sa.String))
    seen = []
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (name VARCHAR)")
        connection.exec_driver_sql("INSERT INTO t VALUES ('z')")
        for value in ["a", "b"]:
            connection.execute(table.update().values(name=InlineLiteral(value)))
            seen.append(connection.execute(sa.select(table.c.name)).scalar_one())
    engine.dispose()

    assert seen == ["a", "b"]
