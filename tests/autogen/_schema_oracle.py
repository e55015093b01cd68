"""The test oracle: a database's schema as SQLAlchemy's inspector sees it, normalised.

``describe(connection)`` gives what two databases must share to count as the same schema
(test_model_sequence.py compares a migrated database with one made by ``create_all``);
``differences(a, b)`` says where two descriptions differ, one line per leaf.
"""

from __future__ import annotations

import warnings
from typing import Any

Schema = dict[str, Any]


def describe(connection: Any) -> Schema:
    """The schema of ``connection``'s database, normalised for comparison.

    Columns map to (type as compiled, nullable, server default, comment, computed
    expression, identity options); indexes map to (unique, columns or expressions, WHERE);
    constraints are keyed by name. SQLite's expression indexes, which SQLAlchemy does not
    reflect, are read from sqlite_master.
    """
    import sqlalchemy as sa

    inspector = sa.inspect(connection)
    dialect = connection.dialect
    tables: dict[str, Any] = {}
    with warnings.catch_warnings():
        # SQLite's expression indexes: read from sqlite_master below
        warnings.filterwarnings("ignore", "Skipped unsupported reflection")
        for name in inspector.get_table_names():
            if name != "alembic_version":
                tables[name] = _describe_table(inspector, dialect, name)
    enums: dict[str, tuple[str, ...]] = {}
    if dialect.name == "postgresql":
        enums = {e["name"]: tuple(e["labels"]) for e in inspector.get_enums()}
    else:
        _sqlite_indexes(connection, tables)
    return {"tables": tables, "enums": enums}


def _describe_table(inspector: Any, dialect: Any, name: str) -> dict[str, Any]:
    columns = {
        c["name"]: (
            _type(c["type"], dialect),
            c["nullable"],
            _text(c.get("default")),
            c.get("comment"),
            _text((c.get("computed") or {}).get("sqltext")),
            _identity(c.get("identity")),
        )
        for c in inspector.get_columns(name)
    }
    indexes = {
        i["name"]: (
            bool(i["unique"]),
            tuple(i.get("expressions") or i["column_names"]),
            _text((i.get("dialect_options") or {}).get(f"{dialect.name}_where")),
        )
        for i in inspector.get_indexes(name)
    }
    return {
        "columns": columns,
        "primary_key": tuple(inspector.get_pk_constraint(name)["constrained_columns"]),
        "foreign_keys": {
            fk["name"]: (
                tuple(fk["constrained_columns"]),
                f"{fk['referred_table']}({', '.join(fk['referred_columns'])})",
                {k: v for k, v in fk.get("options", {}).items() if k in ("ondelete", "onupdate")},
            )
            for fk in inspector.get_foreign_keys(name)
        },
        "uniques": {
            u["name"]: tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
        },
        "checks": {c["name"]: _text(c["sqltext"]) for c in inspector.get_check_constraints(name)},
        "indexes": indexes,
        "comment": inspector.get_table_comment(name)["text"] if dialect.supports_comments else None,
    }


def _sqlite_indexes(connection: Any, tables: dict[str, Any]) -> None:
    import sqlalchemy as sa

    rows = connection.execute(
        sa.text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'")
    )
    for name, table, sql in rows:
        if sql is not None and table in tables:
            found = tables[table]["indexes"]
            found[name] = found.get(name) or ("UNIQUE" in sql.upper(), (_text(sql),), None)


def _type(type_: Any, dialect: Any) -> str:
    try:
        return str(type_.compile(dialect=dialect))
    except Exception:  # a type the dialect cannot spell: its repr says enough
        return repr(type_)


def _identity(identity: dict[str, Any] | None) -> tuple[tuple[str, Any], ...] | None:
    return None if not identity else tuple(sorted(identity.items()))


def _text(value: object) -> str | None:
    """Whitespace and redundant outer parentheses do not make two schemas differ."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def differences(migrated: Any, expected: Any, path: str = "") -> list[str]:
    """Where two ``describe`` results differ, one line per differing leaf."""
    if isinstance(migrated, dict) and isinstance(expected, dict):
        lines: list[str] = []
        for key in sorted(set(migrated) | set(expected), key=str):
            lines += differences(
                migrated.get(key, "<missing>"), expected.get(key, "<missing>"), f"{path}/{key}"
            )
        return lines
    if migrated == expected:
        return []
    return [f"{path}: migrated {migrated!r}, create_all {expected!r}"]
