"""Column types compared as the dialect compiles them; enums by name where they are native."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from amigrate.autogenerate.compare.types import types_differ


class Mood(sa.types.TypeDecorator[str]):
    impl = sa.Enum("sad", "ok", "happy", name="mood")
    cache_ok = True


PG = postgresql.dialect()


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(sa.Enum("sad", "ok", "happy", name="mood"), id="enum"),
        pytest.param(Mood(), id="decorated enum"),
        pytest.param(
            sa.String(10).with_variant(sa.Enum("sad", "ok", name="mood"), "postgresql"),
            id="enum variant",
        ),
    ],
)
def test_a_native_enum_is_the_same_type_while_its_name_is(model: Any) -> None:
    assert not types_differ(PG, postgresql.ENUM("sad", "ok", "happy", name="mood"), model)
    assert types_differ(PG, postgresql.ENUM("sad", "ok", "happy", name="feeling"), model)


def test_plain_types_compare_as_compiled_text() -> None:
    assert not types_differ(PG, postgresql.DOUBLE_PRECISION(), sa.Float())
    assert not types_differ(PG, sa.VARCHAR(40), sa.String(40))
    assert types_differ(PG, sa.VARCHAR(40), sa.String(80))
    # SQLite reads a type name it does not know back as the type of its affinity
    assert not types_differ(sqlite.dialect(), sa.TEXT(), sa.CLOB())
    assert types_differ(sqlite.dialect(), sa.INTEGER(), sa.CLOB())


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(sa.Enum("s", "xl", "medium", name="size"), id="enum"),
        pytest.param(
            sa.String(6).with_variant(sa.Enum("s", "xl", "medium", name="size"), "sqlite"),
            id="enum variant",
        ),
    ],
)
def test_a_non_native_enum_fits_any_column_long_enough(model: Any) -> None:
    assert not types_differ(sqlite.dialect(), sa.VARCHAR(10), model)
    assert types_differ(sqlite.dialect(), sa.VARCHAR(3), model)


def test_answers_asked_again_stay_right() -> None:
    """Answers are kept per pair of types; fresh objects of equal types share them, and
    types that differ in any argument never do."""

    def cases() -> list[tuple[Any, Any, bool]]:
        return [
            (sa.VARCHAR(40), sa.String(40), False),
            (sa.VARCHAR(40), sa.String(80), True),
            (sa.BOOLEAN(), sa.Boolean(), False),
            (sa.INTEGER(), sa.Boolean(), True),
            (sa.BOOLEAN(), sa.Boolean(create_constraint=True, name="ck_flag"), False),
            (sa.NUMERIC(10, 2), sa.Numeric(10, 2), False),
            (sa.NUMERIC(10, 2), sa.Numeric(12, 2), True),
        ]

    for _ in range(3):
        for reflected, model, expected in cases():
            assert types_differ(PG, reflected, model) is expected, (reflected, model)
