"""Column types as source: ``sa.String(length=50)``, ``postgresql.JSONB(...)``, user types.

A type is rendered as its class called with the constructor arguments that differ from
their defaults, read from the constructor's signature and the instance's attributes. The
class is named through ``sa.`` when SQLAlchemy exports it, through its dialect module
(``from sqlalchemy.dialects import postgresql`` is added to the imports), through
``user_module_prefix`` when set, and otherwise through its own module (``import myapp.types``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import TYPE_CHECKING, Any

from amigrate.autogenerate.render.code import Call, Expr
from amigrate.autogenerate.render.literals import literal, string
from amigrate.errors import ScriptError

if TYPE_CHECKING:
    from sqlalchemy.types import Enum, TypeEngine

    from amigrate.autogenerate.api import AutogenContext

_MISSING: Any = object()


def render_item_hook(kind: str, obj: Any, ctx: AutogenContext) -> str | None:
    """What env.py's ``render_item`` says for ``obj`` (None: render it the usual way)."""
    hook = ctx.opts.render_item
    if hook is None:
        return None
    result = hook(kind, obj, ctx)
    return None if result is False or result is None else str(result)


def render_type(type_: TypeEngine[Any] | type[TypeEngine[Any]], ctx: AutogenContext) -> Expr:
    """``type_`` as the constructor call that rebuilds it."""
    from sqlalchemy.types import Enum

    if isinstance(type_, type):
        type_ = type_()
    hooked = render_item_hook("type", type_, ctx)
    if hooked is not None:
        return hooked
    rendered = _enum(type_, ctx) if isinstance(type_, Enum) else _generic(type_, ctx)
    for dialect, variant in getattr(type_, "_variant_mapping", {}).items():
        from amigrate.autogenerate.render.code import flat

        rendered = Call(
            f"{flat(rendered)}.with_variant", [render_type(variant, ctx), string(dialect)]
        )
    return rendered


def class_name(cls: type, ctx: AutogenContext) -> str:
    """How rendered code names ``cls`` (adding the import it needs to ``ctx.imports``)."""
    import sqlalchemy
    from sqlalchemy import types as sa_types

    prefix = ctx.opts.sqlalchemy_module_prefix
    name, module = cls.__name__, cls.__module__
    if getattr(sqlalchemy, name, None) is cls:
        return prefix + name
    if module.startswith("sqlalchemy.dialects."):
        dialect = module.split(".")[2]
        package = importlib.import_module(f"sqlalchemy.dialects.{dialect}")
        if getattr(package, name, None) is cls:
            ctx.imports.add(f"from sqlalchemy.dialects import {dialect}")
            return f"{dialect}.{name}"
    if module.startswith("sqlalchemy.") and getattr(sa_types, name, None) is cls:
        return f"{prefix}types.{name}"
    if not module.startswith("sqlalchemy.") and ctx.opts.user_module_prefix is not None:
        return ctx.opts.user_module_prefix + cls.__qualname__
    ctx.imports.add(f"import {module}")
    return f"{module}.{cls.__qualname__}"


def _generic(type_: TypeEngine[Any], ctx: AutogenContext) -> Call:
    from sqlalchemy.types import TypeDecorator

    positional, keywords = constructor_arguments(type_, stop_at=TypeDecorator)
    if isinstance(type_, TypeDecorator) and _passes_arguments_to_impl(type(type_)):
        more_positional, more_keywords = constructor_arguments(type_.impl_instance)
        if not positional:
            positional = more_positional
        seen = {key for key, _ in keywords}
        keywords += [(k, v) for k, v in more_keywords if k not in seen]
    if isinstance(type_, TypeDecorator):
        keywords = [(k, v) for k, v in keywords if not (k == "impl" and _is_class_impl(type_, v))]
    call = Call(class_name(type(type_), ctx))
    for value in positional:
        call.args.append(_argument(value, ctx))
    for key, value in keywords:
        try:
            call.kwargs.append((key, _argument(value, ctx)))
        except ScriptError:
            continue  # a module or function (PickleType's pickler): left at its default
    return call


def _enum(type_: Enum, ctx: AutogenContext) -> Call:
    """``sa.Enum("a", "b", name=...)``; on PostgreSQL a named native enum as
    ``postgresql.ENUM(..., create_type=False)``: its type is created by its own statement."""
    values: list[Expr] = [string(str(v)) for v in type_.enums]
    native_pg = ctx.dialect_name == "postgresql" and type_.native_enum and type_.name
    if native_pg:
        ctx.imports.add("from sqlalchemy.dialects import postgresql")
        call = Call("postgresql.ENUM", values, [("name", string(str(type_.name)))])
    else:
        call = Call(ctx.opts.sqlalchemy_module_prefix + "Enum", values)
        if type_.name is not None:
            call.kwargs.append(("name", string(str(type_.name))))
    if type_.schema is not None:
        call.kwargs.append(("schema", string(type_.schema)))
    if native_pg:
        call.kwargs.append(("create_type", "False"))
        return call
    if not type_.native_enum:
        call.kwargs.append(("native_enum", "False"))
    if type_.create_constraint:
        call.kwargs.append(("create_constraint", "True"))
    if type_.length != getattr(type_, "_default_length", type_.length):
        call.kwargs.append(("length", repr(type_.length)))
    return call


_NO_SIGNATURE: list[inspect.Parameter] = []


@functools.cache
def _init_parameters(cls: type) -> list[inspect.Parameter] | None:
    """The parameters of ``cls``'s own ``__init__`` after ``self`` (None: it has none)."""
    init = cls.__dict__.get("__init__")
    if init is None:
        return None
    try:
        return list(inspect.signature(init).parameters.values())[1:]
    except (TypeError, ValueError):
        return _NO_SIGNATURE


def constructor_arguments(
    obj: Any, stop_at: type | None = None
) -> tuple[list[Any], list[tuple[str, Any]]]:
    """The arguments that rebuild ``obj``: required ones, then those not at their default.

    Walks up the class hierarchy while each ``__init__`` passes ``**kw`` to its parent.
    """
    positional: list[Any] = []
    keywords: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for cls in type(obj).__mro__:
        if cls is object or (stop_at is not None and cls is stop_at):
            break
        parameters = _init_parameters(cls)
        if parameters is None:
            continue
        if parameters is _NO_SIGNATURE:
            break
        passes_on = False
        for parameter in parameters:
            if parameter.kind is parameter.VAR_KEYWORD:
                passes_on = True
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            if parameter.name in seen:
                continue
            seen.add(parameter.name)
            value = getattr(obj, parameter.name, _MISSING)
            if value is _MISSING:
                continue
            if (
                parameter.default is parameter.empty
                and parameter.kind is not parameter.KEYWORD_ONLY
            ):
                positional.append(value)
            elif parameter.default is parameter.empty or not _same(value, parameter.default):
                keywords.append((parameter.name, value))
        if not passes_on:
            break
    return positional, keywords


def _passes_arguments_to_impl(cls: type) -> bool:
    """Whether a TypeDecorator's constructor arguments reach its ``impl`` (the default)."""
    from sqlalchemy.types import TypeDecorator

    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        if klass is TypeDecorator:
            return True
        parameters = inspect.signature(init).parameters.values()
        return any(p.kind is p.VAR_KEYWORD for p in parameters)
    return False


def _is_class_impl(type_: TypeEngine[Any], value: Any) -> bool:
    """Whether ``impl`` is the class's own default (``PickleType``'s ``LargeBinary()``)."""
    default = getattr(type(type_), "impl", None)
    if not isinstance(default, type):
        default = type(default)
    return type(value) is default and not any(constructor_arguments(value))


def _same(value: Any, default: Any) -> bool:
    if value is default:
        return True
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # an object whose == builds SQL, or fails
        return False


def _argument(value: Any, ctx: AutogenContext) -> Expr:
    from sqlalchemy.types import TypeEngine

    if isinstance(value, TypeEngine) or (isinstance(value, type) and issubclass(value, TypeEngine)):
        return render_type(value, ctx)
    return literal(value, ctx)


__all__ = ["class_name", "constructor_arguments", "render_item_hook", "render_type"]
