"""Column types: the model's type against the reflected one, as DDL text per dialect.

Both types are compiled for the database's dialect and normalised (``dialects/``), so every
standard type reads the same before and after a round trip through the database. A type
that cannot be compiled for the dialect is never reported as changed: nothing can be said.
"""

from __future__ import annotations

import copy
import functools
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from amigrate.autogenerate.dialects import rules_for

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.types import TypeEngine

    from amigrate.autogenerate.api import AutogenContext
    from amigrate.autogenerate.compare.tables import ReflectedColumn

_V = TypeVar("_V")


def type_changed(
    ctx: AutogenContext, reflected: ReflectedColumn, model_column: sa.Column[Any]
) -> bool:
    """Whether the column's type changed: ``compare_type`` hook first, then the default."""
    option = ctx.opts.compare_type
    if option is False:
        return False
    if callable(option):
        reflected_column = reflected.column
        answer = option(
            ctx.migration_context,
            reflected_column,
            model_column,
            reflected_column.type,
            model_column.type,
        )
        if answer is not None:
            return bool(answer)
    return types_differ(ctx.dialect, reflected.data["type"], model_column.type)


def types_differ(dialect: Dialect, reflected: TypeEngine[Any], model: TypeEngine[Any]) -> bool:
    """Whether ``model`` would create a column of another type than ``reflected``."""
    model_key = _compile_key(model, dialect)
    reflected_key = _compile_key(reflected, dialect)
    if model_key is None or reflected_key is None:
        return _types_differ(dialect, reflected, model)
    pair = (model_key, reflected_key)
    answer = _ANSWERS.get(pair)
    if answer is None:
        answer = _kept(_ANSWERS, pair, _types_differ(dialect, reflected, model))
    return answer


def _types_differ(dialect: Dialect, reflected: TypeEngine[Any], model: TypeEngine[Any]) -> bool:
    if isinstance(model, sa.types.NullType) or isinstance(reflected, sa.types.NullType):
        return False
    model_impl = _impl(model, dialect) if _may_be_enum(model) else model
    if isinstance(model_impl, sa.Enum):
        native = bool(model_impl.native_enum and dialect.supports_native_enum)
        if native and isinstance(reflected, sa.Enum):
            return bool(model_impl.name != reflected.name)
        if not native and isinstance(reflected, sa.String) and reflected.length is not None:
            return reflected.length < (model_impl.length or 0)
    model, reflected = _as_specific_as(model, model_impl, reflected)
    model_text = type_text(model, dialect)
    reflected_text = type_text(reflected, dialect)
    if model_text is None or reflected_text is None:
        return False
    return _texts_differ(dialect.name, model_text, reflected_text)


@functools.cache
def _texts_differ(dialect_name: str, model: str, reflected: str) -> bool:
    """Whether two compiled types differ; a model has few distinct pairs, so each is
    worked out once."""
    rules = rules_for(dialect_name)
    if rules.normalize_type(model) == rules.normalize_type(reflected):
        return False
    return not rules.types_match_loosely(model, reflected)


_UNSET_MEANS_ANY = ("length", "precision", "scale")
"""Type arguments a model may leave unset (None, or without the argument at all): then any
value in the database will do, as with Alembic (``String()`` matches ``varchar(50)``,
``Numeric()`` ``numeric(10,2)``, ``DateTime()`` ``timestamp(3)``), as long as both types are
of one kind (``Uuid`` is no ``CHAR(32)`` without its length)."""


def _as_specific_as(
    model: TypeEngine[Any], model_impl: TypeEngine[Any], reflected: TypeEngine[Any]
) -> tuple[TypeEngine[Any], TypeEngine[Any]]:
    """``model`` and ``reflected`` without what is not compared: the arguments
    ``model_impl`` leaves unset, and the collation on either side (as in Alembic, a
    collation is not compared: changing one needs a hand-written migration)."""
    cleared: set[str] = set()
    if model_impl._type_affinity is reflected._type_affinity:  # the same kind of type
        cleared = {
            name
            for name in _UNSET_MEANS_ANY
            if getattr(model_impl, name, None) is None
            and getattr(reflected, name, None) is not None
        }
    if getattr(reflected, "collation", None) is not None:
        cleared.add("collation")
    if cleared:
        reflected = copy.copy(reflected)
        for name in cleared:
            setattr(reflected, name, None)
    if getattr(model, "collation", None) is not None:
        model = copy.copy(model)
        model.collation = None  # type: ignore[attr-defined]
    return model, reflected


def _may_be_enum(type_: TypeEngine[Any]) -> bool:
    """Whether the dialect could use an Enum for ``type_``: working that out (`_impl`)
    copies the type, so the plain types most columns have skip it."""
    return isinstance(type_, sa.Enum | sa.TypeDecorator) or bool(
        getattr(type_, "_variant_mapping", None)
    )


def type_text(type_: TypeEngine[Any], dialect: Dialect) -> str | None:
    """``type_`` as DDL text for ``dialect``, or None when it has none there."""
    key = _compile_key(type_, dialect)
    if key is not None:
        try:
            return _TEXTS[key]
        except KeyError:
            pass
    try:
        text: str | None = str(type_.compile(dialect=dialect))
    except (sa_exc.CompileError, sa_exc.UnsupportedCompilationError, NotImplementedError):
        text = None
    return text if key is None else _kept(_TEXTS, key, text)


_TEXTS: dict[tuple[object, ...], str | None] = {}
"""Compiled type texts by class, attributes and dialect: a schema has thousands of columns
and a few dozen distinct types, and compiling is most of the cost of comparing them."""
_ANSWERS: dict[tuple[tuple[object, ...], tuple[object, ...]], bool] = {}
"""`types_differ` by the two types' compile keys: the few dozen distinct pairs of a schema."""
_KEPT = 4096


def _kept(cache: dict[Any, _V], key: object, value: _V) -> _V:
    """``value``, stored under ``key``; a full cache starts over (a process comparing again
    and again)."""
    if len(cache) >= _KEPT:
        cache.clear()
    cache[key] = value
    return value


def _compile_key(type_: TypeEngine[Any], dialect: Dialect) -> tuple[object, ...] | None:
    """What ``type_.compile(dialect)`` depends on: the type's class and attributes (a type
    is compiled from them alone; a schema type's event ``dispatch``, its own per instance,
    plays no part) and the dialect; None when an attribute is unhashable."""
    attributes = type_.__dict__
    if "dispatch" in attributes:
        attributes = {name: value for name, value in attributes.items() if name != "dispatch"}
    key = (type(type_), dialect, *attributes.items())
    try:
        hash(key)
    except TypeError:
        return None
    return key


def normalized_type_text(type_: TypeEngine[Any], dialect: Dialect) -> str | None:
    """``type_text`` in the dialect's canonical spelling (for telling renames apart)."""
    text = type_text(type_, dialect)
    return None if text is None else rules_for(dialect.name).normalize_type(text)


def _impl(type_: TypeEngine[Any], dialect: Dialect) -> TypeEngine[Any]:
    """The type the dialect really uses: a decorator's implementation, a variant's choice."""
    try:
        impl = type_.dialect_impl(dialect)
    except (sa_exc.CompileError, NotImplementedError):  # pragma: no cover - defensive
        return type_
    if isinstance(impl, sa.types.TypeDecorator):
        return impl.impl_instance
    return impl


__all__ = ["normalized_type_text", "type_changed", "type_text", "types_differ"]
