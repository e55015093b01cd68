"""SQLite batch mode: a new table, the rows copied, the old table dropped, the new renamed.

The steps are SQLite's own recipe for changes ALTER TABLE cannot make:

1. Read the table: reflected (or ``copy_from``), plus what SQLAlchemy's SQLite reflection
   misses or misreads (UNIQUE, ON DELETE/UPDATE and DEFERRABLE written on a column,
   COLLATE, generated-column expressions, expression indexes, AUTOINCREMENT and its
   sequence, triggers). Then refuse, before any statement runs, what would break: a view
   that reads the table (SQLite refuses the final RENAME while a view names a missing
   table, and amigrate does not rewrite views), or a renamed or dropped column that other
   tables' foreign keys point at.
2. ``CREATE TABLE _amigrate_tmp_<name>`` with the recorded changes applied;
   ``INSERT INTO ... SELECT`` the rows (generated columns are never inserted into;
   retyped columns are CAST); ``DROP TABLE <name>``; ``ALTER TABLE ... RENAME TO <name>``;
   then the indexes and triggers, and the batch's ``execute`` statements.
3. ``PRAGMA foreign_key_check`` on the table and the tables that reference it.

Foreign keys. With enforcement on, ``DROP TABLE`` deletes every row first and runs the
referencing tables' ON DELETE actions (CASCADE would empty them), so enforcement must be
off during the swap. ``PRAGMA foreign_keys`` cannot change inside a transaction, and the
runtime runs each revision in one (explicit BEGIN). ``PRAGMA defer_foreign_keys`` is no
way out: the rows orphaned by the DROP stay counted and COMMIT fails, and ON DELETE
actions still run. So, when enforcement is on:

- outside a transaction: turn it off, run the recreate in a transaction of its own, check,
  commit, turn it back on (SQLite's documented procedure);
- inside a transaction, if no table references this one (itself included: the new
  table's copy of a self-reference points at the old one until the swap): the DROP has
  nothing to delete elsewhere, and the recreate runs with enforcement on;
- inside a transaction with referencing tables: an `UnsupportedOperationError`, before
  anything runs, saying how to run with enforcement off.

Violations found by the check fail the batch when enforcement was on (the transaction
then rolls back); with enforcement off they are logged as a warning.

Offline (``--sql``) there is no database to read: the table comes from ``copy_from``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql import naming

from amigrate.errors import AmigrateError, UnsupportedOperationError
from amigrate.operations import schemaobj
from amigrate.operations.batch_ops import Execute
from amigrate.operations.batch_sql import balanced, definitions, identifiers
from amigrate.operations.batch_table import ColumnState, IndexState, TableState, copy_column

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection

    from amigrate.operations.batch import BatchOperations, BatchOptions

log = logging.getLogger("amigrate.operations.batch")

TEMP_PREFIX = "_amigrate_tmp_"
_EXPRESSION_INDEX_WARNING = "Skipped unsupported reflection of expression-based index"


def recreate_table(batch_op: BatchOperations, options: BatchOptions) -> None:
    """Recreate ``batch_op``'s table with its recorded changes (see the module docstring)."""
    operations = batch_op.operations
    impl = operations.impl
    connection = impl.connection
    state = _read_table(batch_op, options, connection)
    state.naming_convention = (
        options.naming_convention or operations.schema_metadata().naming_convention
    )
    for recorded in batch_op.batch:
        try:
            recorded.apply(state)
        except AmigrateError as exc:
            message = f"batch_alter_table({state.name!r}): {recorded.method}: {exc.message}"
            raise type(exc)(message, hint=exc.hint) from None
    if options.partial_reordering:
        state.reorder(options.partial_reordering)
    tmp_name = TEMP_PREFIX + state.name
    build: dict[str, Any] = {"table_args": options.table_args, "table_kwargs": options.table_kwargs}
    new_table = state.build(tmp_name, schemaobj.metadata(), with_indexes=False, **build)
    final = state.build(state.name, schemaobj.metadata(), with_indexes=True, **build)
    if connection is not None:
        _check_referenced_columns(connection, state)
    guard = (
        _foreign_keys_off(connection, state) if connection is not None else contextlib.nullcontext()
    )
    with guard:
        impl.create_table(new_table)
        insert = _copy_rows(state, tmp_name)
        if insert is not None:
            impl.execute(insert)
        impl.drop_table(schemaobj.table(state.name, schema=state.schema))
        impl.rename_table(tmp_name, state.name, state.schema)
        for index in sorted(final.indexes, key=lambda ix: str(ix.name or "")):
            impl.create_index(index)
        for sql in [ix.raw_sql for ix in state.indexes if ix.raw_sql] + state.extra_sql:
            impl.sink.execute(sql)  # as written: a ":" in it is not a bound parameter
        for recorded in batch_op.batch:
            if isinstance(recorded, Execute):
                recorded.replay(operations, state.name, state.schema)


def _copy_rows(state: TableState, tmp_name: str) -> sa.Insert | None:
    copied = state.copied_columns()
    if not copied:
        return None
    old = sa.table(state.name, *[sa.column(c.source or "") for c in copied], schema=state.schema)
    values = [
        sa.cast(old.c[c.source or ""], c.column.type) if c.retyped else old.c[c.source or ""]
        for c in copied
    ]
    names = [c.column.name for c in copied]
    target = sa.table(tmp_name, *[sa.column(name) for name in names], schema=state.schema)
    return sa.insert(target).from_select(names, sa.select(*values))


# -- reading the table ------------------------------------------------------------------------


def _read_table(
    batch_op: BatchOperations, options: BatchOptions, connection: Connection | None
) -> TableState:
    dialect = batch_op.operations.impl.dialect
    if options.copy_from is not None:
        table = options.copy_from
        if options.naming_convention is not None:
            table = table.to_metadata(schemaobj.metadata(options.naming_convention))
    elif connection is None:
        raise AmigrateError(
            f"batch_alter_table({batch_op.table_name!r}) recreates the table, which in offline "
            "(--sql) mode needs copy_from: there is no database to read the table from",
            hint="pass copy_from=sa.Table(...) describing the table as it is before this batch",
        )
    else:
        table = _reflect(connection, batch_op, options)
    if options.naming_convention is not None:
        _name_unnamed(table)
    state = TableState.from_table(table, dialect)
    state.name, state.schema = batch_op.table_name, batch_op.schema
    if connection is not None:
        _read_sqlite_master(connection, state, reflected=options.copy_from is None)
    return state


def _reflect(connection: Connection, batch_op: BatchOperations, options: BatchOptions) -> sa.Table:
    metadata = schemaobj.metadata(options.naming_convention)
    try:
        with warnings.catch_warnings():
            # expression indexes are replayed from their SQL instead (_read_sqlite_master)
            warnings.filterwarnings("ignore", message=_EXPRESSION_INDEX_WARNING)
            table = sa.Table(
                batch_op.table_name,
                metadata,
                *options.reflect_args,
                schema=batch_op.schema,
                autoload_with=connection,
                **(options.reflect_kwargs or {}),
            )
    except sa_exc.NoSuchTableError:
        raise AmigrateError(
            f"batch_alter_table: there is no table {batch_op.table_name!r}"
        ) from None
    _foreign_key_actions(connection, table)
    _column_uniques(connection, table)
    return table


def _column_uniques(connection: Connection, table: sa.Table) -> None:
    """UNIQUE written on a column (``code TEXT UNIQUE``), which reflection leaves out.

    SQLite keeps every UNIQUE constraint as an automatic index with origin ``u``.
    """
    known = {
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint)
    }
    for index in connection.exec_driver_sql(_pragma("index_list", table.name, table.schema)):
        if index.origin != "u":
            continue
        info = connection.exec_driver_sql(_pragma("index_info", index.name, table.schema))
        columns = tuple(row.name for row in sorted(info, key=lambda row: row.seqno))
        if columns not in known and all(name in table.c for name in columns):
            table.append_constraint(sa.UniqueConstraint(*columns))
            known.add(columns)


def _name_unnamed(table: sa.Table) -> None:
    """Give unnamed constraints their names under the batch's naming convention.

    That is what ``naming_convention=`` is for: reflected SQLite constraints are often
    unnamed, and ``drop_constraint`` needs a name. SQLAlchemy names constraints this way
    when they are created, not all of them when they are reflected.
    """
    for constraint in table.constraints:
        if constraint.name is None or type(constraint.name).__name__ == "_NoneName":
            with contextlib.suppress(sa_exc.InvalidRequestError, KeyError):
                name = naming._constraint_name_for_table(constraint, table)  # type: ignore[no-untyped-call]
                if name is not None:
                    constraint.name = name


def _master(schema: str | None) -> str:
    return f'"{schema}".sqlite_master' if schema else "sqlite_master"


def _pragma(name: str, table: str, schema: str | None) -> str:
    prefix = f'"{schema}".' if schema else ""
    quoted = table.replace('"', '""')
    return f'PRAGMA {prefix}{name}("{quoted}")'


def _foreign_key_actions(connection: Connection, table: sa.Table) -> None:
    """ON UPDATE/DELETE/MATCH as SQLite has them; reflection misses them on column-level FKs."""
    found: dict[int, dict[str, Any]] = {}
    for row in connection.exec_driver_sql(_pragma("foreign_key_list", table.name, table.schema)):
        fk_id, _seq, target, source, _to, on_update, on_delete, match = tuple(row)[:8]
        entry = found.setdefault(fk_id, {"target": target.lower(), "columns": []})
        entry["columns"].append(source)
        entry.update(onupdate=on_update, ondelete=on_delete, match=match)
    for constraint in table.foreign_key_constraints:
        columns = [fk.parent.name for fk in constraint.elements]
        target = constraint.elements[0].column.table.name.lower()
        for entry in found.values():
            if entry["columns"] == columns and entry["target"] == target:
                for key in ("onupdate", "ondelete", "match"):
                    value = entry[key]
                    no_value = value is None or value.upper() in ("NO ACTION", "NONE")
                    setattr(constraint, key, None if no_value else value)


def _read_sqlite_master(connection: Connection, state: TableState, *, reflected: bool) -> None:
    """Views that would break; what reflection misses: expression indexes, triggers, flags."""
    name = state.name.lower()
    rows = connection.exec_driver_sql(
        f"SELECT type, name, tbl_name, sql FROM {_master(state.schema)} WHERE sql IS NOT NULL"
    ).all()
    views = sorted(r.name for r in rows if r.type == "view" and name in identifiers(r.sql))
    if views:
        raise UnsupportedOperationError(
            f"batch_alter_table({state.name!r}) cannot recreate the table: "
            f"{'views' if len(views) > 1 else 'view'} {', '.join(views)} "
            f"{'depend' if len(views) > 1 else 'depends'} on it",
            hint="drop the view(s) before the batch and create them again after it",
        )
    known = {ix.name for ix in state.indexes}
    for row in rows:
        if row.tbl_name.lower() != name:
            continue
        if row.type == "table" and row.name.lower() == name:
            if reflected:
                _column_definitions(state, row.sql)
            if re.search(r"\bAUTOINCREMENT\b", row.sql, re.IGNORECASE):
                state.kwargs.setdefault("sqlite_autoincrement", True)
                _keep_sequence(connection, state)
            if re.search(r"\bWITHOUT\s+ROWID\s*$", row.sql, re.IGNORECASE):
                state.kwargs.setdefault("sqlite_with_rowid", False)
        elif row.type == "index" and reflected and row.name not in known:
            state.indexes.append(IndexState(row.name, [], raw_sql=row.sql))
        elif row.type == "trigger":
            state.extra_sql.append(row.sql)


def _keep_sequence(connection: Connection, state: TableState) -> None:
    """AUTOINCREMENT never reuses an id: carry the table's high-water mark over."""
    sequence = f'"{state.schema}".sqlite_sequence' if state.schema else "sqlite_sequence"
    found = connection.exec_driver_sql(
        f"SELECT seq FROM {sequence} WHERE name = ?", (state.name,)
    ).scalar()
    if found is not None:
        quoted = state.name.replace("'", "''")
        state.extra_sql.append(
            f"UPDATE {sequence} SET seq = max(seq, {int(found)}) WHERE name = '{quoted}'"
        )


def _column_definitions(state: TableState, sql: str) -> None:
    """What SQLAlchemy's SQLite reflection gets wrong or leaves out, read from the SQL.

    A generated column's expression (reflection reads up to the last ``)`` of the table,
    swallowing the constraints after it), a column's COLLATE, and DEFERRABLE on a foreign
    key written on the column.
    """
    for definition in definitions(sql):
        match = re.match(r'\s*(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|(\w+))', definition)
        if match is None:
            continue
        name = next(g for g in match.groups() if g is not None).replace('""', '"').lower()
        column = next((c for c in state.columns if c.column.name.lower() == name), None)
        if column is None:
            continue  # a table constraint
        _generated(state, column, definition)
        collation = re.search(r"\bCOLLATE\s+(\w+)", definition, re.IGNORECASE)
        if collation is not None and hasattr(column.column.type, "collation"):
            column.column.type.collation = collation.group(1)
        deferrable = re.search(
            r"\b(NOT\s+)?DEFERRABLE(?:\s+INITIALLY\s+(DEFERRED|IMMEDIATE))?", definition, re.I
        )
        if deferrable is not None:
            for constraint in state.constraints:
                if constraint.kind == "foreign_key" and constraint.columns == [column.source]:
                    constraint.options["deferrable"] = not deferrable.group(1)
                    if deferrable.group(2):
                        constraint.options["initially"] = deferrable.group(2).upper()


def _generated(state: TableState, column: ColumnState, definition: str) -> None:
    found = re.search(r"\bAS\s*\(", definition, re.IGNORECASE)
    if found is None or column.column.computed is None:
        return
    expression = balanced(definition, found.end() - 1)
    rest = definition[found.end() + len(expression) :]
    column.column = copy_column(column.column, state.dialect, computed_sql=expression)
    assert column.column.computed is not None
    column.column.computed.persisted = bool(re.search(r"\bSTORED\b", rest, re.IGNORECASE))


# -- foreign keys -----------------------------------------------------------------------------


@contextlib.contextmanager
def _foreign_keys_off(connection: Connection, state: TableState) -> Iterator[None]:
    """Run the swap with foreign-key enforcement off where that is possible (module docstring)."""
    run = connection.exec_driver_sql
    if not run("PRAGMA foreign_keys").scalar():
        yield
        _check_foreign_keys(connection, state, enforced=False)
        return
    run("PRAGMA foreign_keys=OFF")
    if run("PRAGMA foreign_keys").scalar():  # inside a transaction: the PRAGMA did nothing
        referencing = _referencing_tables(connection, state)
        if referencing:
            raise UnsupportedOperationError(
                f"batch_alter_table({state.name!r}) cannot recreate the table while SQLite "
                "enforces foreign keys inside the migration's transaction: dropping it would "
                f"delete or orphan the rows of {', '.join(referencing)} that reference it",
                hint="run 'PRAGMA foreign_keys=OFF' on the connection before the migration "
                "begins (in env.py, before run_migrations), and turn it on again after",
            )
        yield
        _check_foreign_keys(connection, state, enforced=True)
        return
    try:
        run("BEGIN")
        try:
            yield
            _check_foreign_keys(connection, state, enforced=True)
        except BaseException:
            run("ROLLBACK")
            raise
        run("COMMIT")
    finally:
        run("PRAGMA foreign_keys=ON")


def _referencing_tables(connection: Connection, state: TableState) -> list[str]:
    """Tables with a foreign key to this one: the table itself too, if it refers to itself.

    The new table's copy of a self-reference points at the old table until the swap, so
    dropping the old one would reach the copied rows.
    """
    tables = connection.exec_driver_sql(
        f"SELECT name FROM {_master(state.schema)} WHERE type = 'table'"
    ).scalars()
    found = []
    for table in tables:
        targets = connection.exec_driver_sql(_pragma("foreign_key_list", table, state.schema))
        if any(str(row[2]).lower() == state.name.lower() for row in targets):
            found.append(table)
    return sorted(found)


def _check_referenced_columns(connection: Connection, state: TableState) -> None:
    """Refuse to rename or drop a column other tables' foreign keys point at.

    Their REFERENCES clauses would name a column the new table does not have.
    """
    kept = {c.source for c in state.columns if c.source is not None and c.source == c.column.name}
    name = state.name.lower()
    lost = set()
    others = [t for t in _referencing_tables(connection, state) if t != state.name]
    for table in others:  # a reference to itself is renamed with the column
        for row in connection.exec_driver_sql(_pragma("foreign_key_list", table, state.schema)):
            target = row[4]
            if str(row[2]).lower() == name and target is not None and target not in kept:
                lost.add(f"{table}.{row[3]} -> {target}")
    if lost:
        raise UnsupportedOperationError(
            f"batch_alter_table({state.name!r}) would rename or drop a column that foreign "
            f"keys of other tables reference: {', '.join(sorted(lost))}",
            hint="change those foreign keys first (a batch on each referencing table)",
        )


def _check_foreign_keys(connection: Connection, state: TableState, *, enforced: bool) -> None:
    violations = []
    name = state.name.lower()
    referencing = [t for t in _referencing_tables(connection, state) if t != state.name]
    for table in [state.name, *referencing]:
        for row in connection.exec_driver_sql(_pragma("foreign_key_check", table, state.schema)):
            if table == state.name or str(row[2]).lower() == name:
                violations.append(f"{row[0]} row {row[1]} -> {row[2]}")
    if not violations:
        return
    shown = "; ".join(violations[:5]) + (
        f" (and {len(violations) - 5} more)" if len(violations) > 5 else ""
    )
    message = f"batch_alter_table({state.name!r}): foreign key violations: {shown}"
    if enforced:
        raise AmigrateError(message, hint="the batch was rolled back")
    log.warning("%s (SQLite does not enforce foreign keys on this connection)", message)


__all__ = ["TEMP_PREFIX", "recreate_table"]
