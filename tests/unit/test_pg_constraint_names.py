"""Names PostgreSQL gives unnamed constraints (expected values read back from PostgreSQL 15)."""

from __future__ import annotations

import pytest

from amigrate.autogenerate.dialects.postgresql import default_constraint_name


@pytest.mark.parametrize(
    ("table", "columns", "label", "expected"),
    [
        ("t", ["email"], "key", "t_email_key"),
        ("t", ["email"], "fkey", "t_email_fkey"),
        ("a" * 40, ["b" * 40, "c" * 10], "key", "a" * 29 + "_" + "b" * 29 + "_key"),
        ("a" * 40, ["b" * 40], "fkey", "a" * 29 + "_" + "b" * 28 + "_fkey"),
        ("tbl", ["x" * 70], "key", "tbl_" + "x" * 55 + "_key"),
        (
            "über_täble_" * 4,
            ["cölümn_" * 6],
            "key",
            "über_täble_über_täble_üb_cölümn_cölümn_cölümn_c_key",
        ),
    ],
)
def test_unnamed_constraint_names_match_postgresql(
    table: str, columns: list[str], label: str, expected: str
) -> None:
    assert default_constraint_name(table, columns, label) == expected
    assert len(expected.encode()) <= 63
