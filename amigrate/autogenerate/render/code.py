"""A tiny expression tree for rendered code, so long calls wrap one argument per line.

Renderers build `Call` / `Seq` trees whose leaves are finished source strings (literals,
names); `format_expr` lays a tree out within the line width, the way ruff would: on one line
when it fits, otherwise one argument per line with a trailing comma.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from amigrate._util import fields_repr

WIDTH = 95
"""Columns available to a statement: the caller indents the function body by 4."""


@dataclass(repr=False)
class Call:
    """``func(arg, ..., name=value, ...)``."""

    __repr__ = fields_repr

    func: str
    args: list[Expr] = field(default_factory=list)
    kwargs: list[tuple[str, Expr]] = field(default_factory=list)


@dataclass(repr=False)
class Seq:
    """A list, tuple or dict display; ``items`` of a dict are `Pair` objects."""

    __repr__ = fields_repr

    items: list[Expr]
    brackets: str = "[]"


@dataclass(repr=False)
class Pair:
    """``key: value`` inside a dict display."""

    __repr__ = fields_repr

    key: Expr
    value: Expr


Expr: TypeAlias = "str | Call | Seq | Pair"


def flat(expr: Expr) -> str:
    """The expression on one line."""
    if isinstance(expr, str):
        return expr
    if isinstance(expr, Pair):
        return f"{flat(expr.key)}: {flat(expr.value)}"
    if isinstance(expr, Seq):
        inner = ", ".join(flat(item) for item in expr.items)
        if expr.brackets == "()" and len(expr.items) == 1:
            inner += ","
        return f"{expr.brackets[0]}{inner}{expr.brackets[1]}"
    parts = [flat(arg) for arg in expr.args]
    parts += [f"{name}={flat(value)}" for name, value in expr.kwargs]
    return f"{expr.func}({', '.join(parts)})"


def format_expr(expr: Expr, indent: int = 0, width: int = WIDTH, used: int = 0) -> str:
    """``expr`` as source whose first line starts after ``indent + used`` columns.

    Continuation lines carry their own indentation (``indent`` plus 4 per level).
    """
    one_line = flat(expr)
    if isinstance(expr, str) or indent + used + len(one_line) <= width:
        return one_line
    if isinstance(expr, Pair):
        key = flat(expr.key) + ": "
        return key + format_expr(expr.value, indent, width, used + len(key))
    if isinstance(expr, Seq):
        opening, closing = expr.brackets[0], expr.brackets[1]
        items: list[tuple[str, Expr]] = [("", item) for item in expr.items]
    else:
        opening, closing = expr.func + "(", ")"
        items = [("", arg) for arg in expr.args]
        items += [(f"{name}=", value) for name, value in expr.kwargs]
    if not items:
        return one_line
    inner = indent + 4
    lines = [opening]
    for prefix, item in items:
        text = format_expr(item, inner, width - 1, len(prefix))
        lines.append(" " * inner + prefix + text + ",")
    lines.append(" " * indent + closing)
    return "\n".join(lines)


__all__ = ["WIDTH", "Call", "Expr", "Pair", "Seq", "flat", "format_expr"]
