"""Per-dialect comparison rules: type synonyms, default normalisation, reflection quirks.

Types are compared as the DDL text the dialect compiles for them, so a model type and the
type reflected back from the column it created read the same; what a database reports
differently from what it was given (PostgreSQL's ``FLOAT`` → ``DOUBLE PRECISION``, its
``'x'::character varying`` defaults) is normalised here, one module per dialect, imported on
first use by name.
"""

from __future__ import annotations

import importlib
import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

_QUOTED = re.compile(r"('(?:[^']|'')*')")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_CURRENT_TIMESTAMP = {"now()", "current_timestamp", "current_timestamp()", "localtimestamp"}


def outside_quotes(text: str, change: Callable[[str], str]) -> str:
    """``text`` with ``change`` applied to everything but its single-quoted literals."""
    parts = _QUOTED.split(text)
    return "".join(part if i % 2 else change(part) for i, part in enumerate(parts))


def strip_outer_parens(text: str) -> str:
    """``(a + b)`` → ``a + b``, as often as the outer parentheses enclose everything."""
    text = text.strip()
    while text.startswith("(") and text.endswith(")") and _encloses(text):
        text = text[1:-1].strip()
    return text


def _encloses(text: str) -> bool:
    depth = 0
    in_quote = False
    for i, char in enumerate(text):
        if char == "'":
            in_quote = not in_quote
        elif not in_quote and char in "()":
            depth += 1 if char == "(" else -1
            if depth == 0 and i < len(text) - 1:
                return False
    return depth == 0


class DialectRules:
    """What any SQL database reports back as it was given; dialects refine it."""

    name = "default"

    def normalize_type(self, compiled: str) -> str:
        """A type's DDL text in one canonical spelling."""
        text = " ".join(compiled.upper().split())
        return text.replace(", ", ",")

    def types_match_loosely(self, model: str, reflected: str) -> bool:
        """Whether two type texts that differ still mean the same to this database."""
        return False

    def normalize_default(self, text: str) -> str:
        """A server default's SQL text in one canonical spelling."""
        text = strip_outer_parens(text)
        text = outside_quotes(text, lambda part: " ".join(part.lower().split()))
        if text in _CURRENT_TIMESTAMP:
            return "current_timestamp"
        if text.startswith("'") and text.endswith("'") and _NUMBER.match(text[1:-1]):
            text = text[1:-1]
        if _NUMBER.match(text):
            return _number(text)
        return text

    def is_generated_default(self, text: str) -> bool:
        """Whether a reflected default is one the database made (a serial's sequence)."""
        return False

    def normalize_expression(self, text: str) -> str:
        """A generated column's expression, without spacing and redundant parentheses."""
        text = strip_outer_parens(text)
        return outside_quotes(text, lambda part: "".join(part.lower().split()))


def _number(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - _NUMBER only lets numbers through
        return text
    return format(value.normalize(), "f")


@cache
def rules_for(dialect_name: str) -> DialectRules:
    """The rules of ``dialect_name`` (``amigrate.autogenerate.dialects.<name>.RULES``)."""
    try:
        module = importlib.import_module(f"{__name__}.{dialect_name}")
    except ImportError:
        return DialectRules()
    rules: DialectRules = module.RULES
    return rules


__all__ = ["DialectRules", "outside_quotes", "rules_for", "strip_outer_parens"]
