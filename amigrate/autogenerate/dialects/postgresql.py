"""PostgreSQL: how it reports types and defaults back differently from how they were given.

``FLOAT`` comes back as ``DOUBLE PRECISION``, ``DECIMAL`` as ``NUMERIC``, ``CHAR`` as
``CHAR(1)``; defaults come back with casts (``'x'::character varying``, ``'-1'::integer``),
and generated expressions with casts and extra parentheses (``(upper((s)::text))``).
"""

from __future__ import annotations

import re

from amigrate.autogenerate.dialects import DialectRules, outside_quotes, strip_outer_parens

_CAST = re.compile(
    r"::\s*(?:character varying|double precision|bit varying"
    r"|timestamp(?:\(\d\))? with(?:out)? time zone|time(?:\(\d\))? with(?:out)? time zone"
    r'|"[^"]+"|[\w.]+)(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])*',
    re.IGNORECASE,
)
_LONE = re.compile(r"(?<![\w$])\(\s*([\w.]+)\s*\)")
_SYNONYMS = {
    "DECIMAL": "NUMERIC",
    "FLOAT": "DOUBLE PRECISION",
    "CHAR": "CHAR(1)",
    "NCHAR": "CHAR(1)",
    "CHARACTER": "CHAR(1)",
    "INT": "INTEGER",
    "INT4": "INTEGER",
    "INT8": "BIGINT",
    "INT2": "SMALLINT",
    "FLOAT8": "DOUBLE PRECISION",
    "FLOAT4": "REAL",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP WITHOUT TIME ZONE",
    "TIME": "TIME WITHOUT TIME ZONE",
    "TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE",
    "TIMETZ": "TIME WITH TIME ZONE",
    "CHARACTER VARYING": "VARCHAR",
    "NVARCHAR": "VARCHAR",
}
_WITH_LENGTH = {"NCHAR": "CHAR", "CHARACTER": "CHAR", "NVARCHAR": "VARCHAR", "DECIMAL": "NUMERIC"}


class PostgreSQLRules(DialectRules):
    name = "postgresql"

    def normalize_type(self, compiled: str) -> str:
        text = super().normalize_type(compiled)
        dims = ""
        while text.endswith("[]"):
            text, dims = text[:-2].rstrip(), dims + "[]"
        return _element_type(text) + dims

    def normalize_default(self, text: str) -> str:
        return super().normalize_default(_without_casts(text))

    def is_generated_default(self, text: str) -> bool:
        return text.lower().startswith("nextval(")

    def normalize_expression(self, text: str) -> str:
        return super().normalize_expression(_without_casts(text))


def _element_type(text: str) -> str:
    if text in _SYNONYMS:
        return _SYNONYMS[text]
    match = re.fullmatch(r"([A-Z ]+?)\s*\((\d+)(?:,(\d+))?\)(.*)", text)
    if match is None:
        return text
    base, first, second, rest = match.groups()
    if base == "FLOAT" and not rest:
        return "REAL" if int(first) <= 24 else "DOUBLE PRECISION"
    base = _WITH_LENGTH.get(base, base)
    if base == "NUMERIC" and second is None:
        second = "0"
    args = first if second is None else f"{first},{second}"
    return f"{base}({args}){rest}"


def _without_casts(text: str) -> str:
    def clean(part: str) -> str:
        part = _CAST.sub("", part)
        previous = None
        while previous != part:
            previous, part = part, _LONE.sub(r"\1", part)
        return part

    text = outside_quotes(text, clean)
    # a literal alone in parentheses, left by a removed cast: ('x') → 'x'
    return re.sub(r"(?<![\w$])\(\s*('(?:[^']|'')*')\s*\)", r"\1", strip_outer_parens(text))


RULES = PostgreSQLRules()


_NAME_BYTES = 63  # NAMEDATALEN - 1


def default_constraint_name(table: str, columns: list[str] | tuple[str, ...], label: str) -> str:
    """The name PostgreSQL gives an unnamed constraint: ``<table>_<col>_<col>_<label>``.

    Written into the op explicitly, so the downgrade can drop what the upgrade made (an
    unnamed ``drop_constraint`` cannot run). Too long a name is cut as PostgreSQL cuts it:
    the longer of the table part and the columns part loses a character at a time, without
    splitting a character. (PostgreSQL appends a digit on a clash; that case is not guessed.)
    """
    columns_part = _clip("_".join(columns), _NAME_BYTES)
    table_bytes, columns_bytes = len(table.encode()), len(columns_part.encode())
    available = _NAME_BYTES - len(label.encode()) - 2
    while table_bytes + columns_bytes > available:
        if table_bytes > columns_bytes:
            table_bytes -= 1
        else:
            columns_bytes -= 1
    return f"{_clip(table, table_bytes)}_{_clip(columns_part, columns_bytes)}_{label}"


def _clip(text: str, size: int) -> str:
    """At most ``size`` bytes of ``text`` (UTF-8), never half a character."""
    return text.encode()[:size].decode(errors="ignore")
