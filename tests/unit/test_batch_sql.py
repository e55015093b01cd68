"""Column names in SQL text: found and renamed outside string literals, in any spelling."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import sqlite

from amigrate.errors import AmigrateError
from amigrate.operations.batch_sql import balanced, definitions, identifiers, rename_identifiers

DIALECT = sqlite.dialect()


def test_identifiers_skip_string_literals():
    sql = "qty > 0 AND \"Name\" <> 'qty' AND [b] = `c` AND t.d IS NULL"
    assert identifiers(sql) == {"qty", "and", "name", "b", "c", "t", "d", "is", "null"}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("qty >= 0", "quantity >= 0"),
        ('"QTY" * 2', "quantity * 2"),
        ("[qty] + `qty`", "quantity + quantity"),
        ("qty_total + qty", "qty_total + quantity"),
        ("status <> 'qty'", "status <> 'qty'"),
        ("name = 'it''s qty'", "name = 'it''s qty'"),
    ],
)
def test_rename_identifiers(sql: str, expected: str):
    assert rename_identifiers(sql, {"qty": "quantity"}, DIALECT) == expected


def test_a_new_name_is_quoted_when_it_needs_to_be():
    assert rename_identifiers("a > 1", {"a": "order"}, DIALECT) == '"order" > 1'


def test_definitions_split_at_top_level_commas_only():
    sql = "CREATE TABLE t (a INT DEFAULT ',', b INT AS (a + (1, 2)[0]) STORED, CHECK (a IN (1, 2)))"
    assert [d.strip() for d in definitions(sql)] == [
        "a INT DEFAULT ','",
        "b INT AS (a + (1, 2)[0]) STORED",
        "CHECK (a IN (1, 2))",
    ]


def test_balanced_reads_to_the_matching_parenthesis():
    assert balanced("AS (lower(')') || x) STORED", 3) == "lower(')') || x"
    with pytest.raises(AmigrateError):
        balanced("(unclosed", 0)
