"""SQLite: a declared type it does not know comes back as the type of its affinity.

SQLite keeps a column's declared type text, and SQLAlchemy reflects the names it knows;
any other name (``VARBINARY``, ``CLOB``, ``DOUBLE PRECISION``) is read back by SQLite's
affinity rules, so such a type matches whatever reflects with the same affinity.
"""

from __future__ import annotations

from amigrate.autogenerate.dialects import DialectRules


class SQLiteRules(DialectRules):
    name = "sqlite"

    def types_match_loosely(self, model: str, reflected: str) -> bool:
        from sqlalchemy.dialects.sqlite.base import SQLiteDialect

        base = model.split("(")[0].strip()
        if base in SQLiteDialect.ischema_names:
            return False
        return affinity(model) == affinity(reflected)


def affinity(declared: str) -> str:
    """The affinity SQLite gives a column declared with type ``declared``."""
    text = declared.upper()
    if "INT" in text:
        return "INTEGER"
    if any(word in text for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if "BLOB" in text or not text:
        return "BLOB"
    if any(word in text for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


RULES = SQLiteRules()
