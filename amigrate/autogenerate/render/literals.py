"""Exact Python literals for any text or plain value, and SQL text that ``text()`` keeps.

Every string goes through `repr()`, never hand-built quoting, so quotes, backslashes,
newlines, non-printable and non-ASCII characters come back exactly after ``compile()``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import re
import uuid
from typing import TYPE_CHECKING, Any

from amigrate.autogenerate.render.code import Call, Expr, Pair, Seq
from amigrate.errors import ScriptError

if TYPE_CHECKING:
    from amigrate.autogenerate.api import AutogenContext

# A character ``text()`` would treat specially: a ``:name`` bind parameter (SQLAlchemy's
# own rule), or a backslash its compiler would drop before such a colon.
_TEXT_SPECIAL = re.compile(r"\\(?=:\w*(?![:\w]))|(?<![:\w\\]):(?=\w+(?![:\w]))", re.UNICODE)


def string(value: str) -> str:
    """``value`` as a Python string literal; double quotes unless single ones escape less."""
    value = str(value)
    literal = repr(value)
    if value.count('"') > value.count("'") or not literal.startswith("'"):
        return literal  # fewer escapes in single quotes; or repr chose double quotes itself
    # In a single-quoted repr every ' is escaped and no " is: swap which one is.
    return '"' + literal[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'


def text_source(sql: str) -> str:
    """``sql`` escaped so that ``sa.text(result)`` (or ``op.execute(result)``) runs it as is.

    A ``:name`` in the text would otherwise become a bind parameter with no value.
    """
    return _TEXT_SPECIAL.sub(lambda match: "\\" + match.group(0), sql)


def text_call(sql: str, ctx: AutogenContext, *, escape: bool = True) -> Call:
    """``sa.text("...")`` producing exactly ``sql`` (``escape=False``: ``sql`` is already
    the text of a ``TextClause`` and is reproduced as is)."""
    source = text_source(sql) if escape else sql
    return Call(ctx.opts.sqlalchemy_module_prefix + "text", [string(source)])


def name(value: Any, op_prefix: str = "op.") -> str:
    """An identifier: a string literal, ``op.f(...)`` for a name marked final, or None."""
    from sqlalchemy.sql.base import _NONE_NAME
    from sqlalchemy.sql.elements import conv

    if value is None or value is _NONE_NAME:
        return "None"
    if isinstance(value, conv):
        return f"{op_prefix}f({string(str(value))})"
    return string(str(value))


def literal(value: Any, ctx: AutogenContext) -> Expr:
    """A plain Python value (str, numbers, None, dates, containers, ...) as source."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return string(value)
    if isinstance(value, enum.Enum):
        value = value.value
        return literal(value, ctx)
    if isinstance(value, int | bytes):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({string(repr(value))})"
    if isinstance(value, decimal.Decimal):
        ctx.imports.add("import decimal")
        return f"decimal.Decimal({string(str(value))})"
    if isinstance(value, datetime.date | datetime.time | datetime.timedelta):
        ctx.imports.add("import datetime")
        return repr(value)
    if isinstance(value, uuid.UUID):
        ctx.imports.add("import uuid")
        return f"uuid.UUID({string(str(value))})"
    if isinstance(value, list | tuple):
        brackets = "()" if isinstance(value, tuple) else "[]"
        return Seq([literal(item, ctx) for item in value], brackets)
    if isinstance(value, dict):
        return Seq([Pair(literal(k, ctx), literal(v, ctx)) for k, v in value.items()], "{}")
    if isinstance(value, set | frozenset):
        if not value:
            return "set()"
        return Seq([literal(item, ctx) for item in sorted(value, key=repr)], "{}")
    raise ScriptError(
        f"cannot write {value!r} ({type(value).__name__}) into a revision file",
        hint="render it yourself with the render_item hook in env.py",
    )


def comment_lines(text: str, first: str = "# ", rest: str = "# ", width: int = 90) -> list[str]:
    """``text`` as comment lines of at most ``width`` columns (long words are kept whole).

    Line breaks in the text start new lines; other non-printable characters are written as
    escapes, so nothing in a comment can end it early or break the file.
    """
    import textwrap

    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        cleaned = "".join(c if c.isprintable() else repr(c)[1:-1] for c in paragraph)
        prefix = first if not lines else rest
        wrapped = textwrap.wrap(
            cleaned,
            width=width,
            initial_indent=prefix,
            subsequent_indent=rest,
            break_long_words=False,
            break_on_hyphens=False,
            drop_whitespace=True,
        )
        lines.extend(wrapped or [prefix.rstrip()])
    return lines


__all__ = ["comment_lines", "literal", "name", "string", "text_call", "text_source"]
