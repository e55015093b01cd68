"""SQL text that names columns: finding and renaming identifiers, splitting definitions.

Batch mode keeps CHECK conditions, generated-column expressions and some indexes as SQL
text. Renaming a column must rewrite them, and only where the text names the column: a
tokenizer skips string literals and recognises SQLite's four identifier spellings
(bare, ``"double"``, `` `back` ``, ``[bracket]``). Splitting ``CREATE TABLE`` text into its
column definitions reads generated-column expressions, which SQLAlchemy's SQLite
reflection cuts wrongly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy.sql.elements import ClauseElement, TextClause

from amigrate.errors import AmigrateError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.engine import Dialect

_TOKEN = re.compile(
    r"""'(?:[^']|'')*'"""  # a string literal: never rewritten
    r'''|"((?:[^"]|"")*)"'''  # "quoted identifier"
    r"|`([^`]*)`|\[([^\]]*)\]"  # `mysql style` and [access style], which SQLite accepts
    r"|([A-Za-z_][A-Za-z0-9_$]*)"  # a bare word
)


def identifiers(sql: str) -> set[str]:
    """The identifiers (lower-cased) that ``sql`` mentions outside string literals."""
    found = set()
    for match in _TOKEN.finditer(sql):
        name = next((g for g in match.groups() if g is not None), None)
        if name is not None:
            found.add(name.replace('""', '"').lower())
    return found


def rename_identifiers(sql: str, renames: Mapping[str, str], dialect: Dialect) -> str:
    """``sql`` with each identifier in ``renames`` (lower-cased keys) replaced, quoted as needed."""
    if not renames:
        return sql

    def substitute(match: re.Match[str]) -> str:
        name = next((g for g in match.groups() if g is not None), None)
        new = None if name is None else renames.get(name.replace('""', '"').lower())
        return match.group(0) if new is None else dialect.identifier_preparer.quote(new)

    return _TOKEN.sub(substitute, sql)


def sql_text(element: Any, dialect: Dialect) -> str:
    """SQL text of a condition or expression, values inline and columns unqualified."""
    if isinstance(element, str):
        return element
    if isinstance(element, TextClause):
        return element.text
    compiled = cast("ClauseElement", element).compile(
        dialect=dialect, compile_kwargs={"literal_binds": True, "include_table": False}
    )
    return str(compiled)


def definitions(sql: str) -> list[str]:
    """The top-level, comma-separated parts of ``CREATE TABLE t (...)``."""
    body = balanced(sql, sql.index("("))
    parts, depth, start, quote = [], 0, 0, ""
    for i, char in enumerate(body):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`[":
            quote = "]" if char == "[" else char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    return [*parts, body[start:]]


def balanced(sql: str, open_at: int) -> str:
    """What lies between the ``(`` at ``open_at`` and its matching ``)``."""
    depth, quote = 0, ""
    for i in range(open_at, len(sql)):
        char = sql[i]
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`[":
            quote = "]" if char == "[" else char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return sql[open_at + 1 : i]
    raise AmigrateError(f"cannot read the SQL of table: {sql!r}")


__all__ = ["balanced", "definitions", "identifiers", "rename_identifiers", "sql_text"]
