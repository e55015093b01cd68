"""AutogenContext: what every comparator and renderer of one autogenerate run sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amigrate._util import fields_repr

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.engine import Connection, Dialect
    from sqlalchemy.schema import MetaData, SchemaItem, Table

    from amigrate.operations.ops import MigrationScript, UpgradeOps


@dataclass(repr=False)
class AutogenOptions:
    """The autogenerate settings env.py passes to ``context.configure(...)``.

    Each hook has Alembic's signature, so an Alembic env.py's functions work unchanged:
    ``include_object(object, name, type_, reflected, compare_to) -> bool``,
    ``include_name(name, type_, parent_names) -> bool``,
    ``compare_type(context, inspected_column, metadata_column, inspected_type,
    metadata_type) -> bool | None`` (None: use the default comparison),
    ``compare_server_default(context, inspected_column, metadata_column,
    inspected_default, metadata_default, rendered_metadata_default) -> bool | None``,
    ``render_item(type_, obj, autogen_context) -> str | False``,
    ``process_revision_directives(context, revision, directives) -> None``.
    """

    __repr__ = fields_repr

    include_object: Callable[..., bool] | None = None
    include_name: Callable[..., bool] | None = None
    include_schemas: bool = False
    compare_type: bool | Callable[..., bool | None] = True
    compare_server_default: bool | Callable[..., bool | None] = False
    render_item: Callable[..., Any] | None = None
    user_module_prefix: str | None = None
    sqlalchemy_module_prefix: str = "sa."
    render_as_batch: bool | None = None  # None: batch on SQLite, where ALTER is limited
    process_revision_directives: Callable[..., None] | None = None
    version_table: str = "alembic_version"
    version_table_schema: str | None = None
    compare_check_constraints: bool = False  # named CHECKs, compared by normalised text

    @classmethod
    def from_configure(cls, values: dict[str, Any]) -> AutogenOptions:
        """The options among ``values`` (env.py's configure keywords); others are ignored."""
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in values.items() if k in known})


@dataclass(repr=False)
class AutogenContext:
    """One database's comparison: its connection, its models and the options.

    ``connection`` is a sync SQLAlchemy connection (the comparison runs inside
    ``run_sync``); it is None when only rendering. ``imports`` collects the import lines
    that rendered code needs (``from sqlalchemy.dialects import postgresql``).
    ``migration_context`` is the runtime's MigrationContext when run from env.py (passed
    to the ``compare_type``/``compare_server_default`` hooks), else None.
    """

    __repr__ = fields_repr

    dialect: Dialect
    metadata: Sequence[MetaData] = ()
    connection: Connection | None = None
    opts: AutogenOptions = field(default_factory=AutogenOptions)
    imports: set[str] = field(default_factory=set)
    migration_context: Any = None
    _sorted_tables: list[Table] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.opts.render_as_batch is None:
            self.opts.render_as_batch = self.dialect.name == "sqlite"

    @property
    def dialect_name(self) -> str:
        return str(self.dialect.name)

    def sorted_tables(self) -> list[Table]:
        """Every model table, in dependency order, across all the MetaData objects (worked
        out once: each comparer asks, and sorting a large model takes a while)."""
        if self._sorted_tables is None:
            self._sorted_tables = [t for m in self.metadata for t in m.sorted_tables]
        return list(self._sorted_tables)

    def include_name(self, name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        """The ``include_name`` hook, asked before anything of ``name`` is reflected.

        ``type_`` is "schema", "table", "column", "index", "unique_constraint" or
        "foreign_key_constraint"; ``parent_names`` holds "schema_name", "table_name" and
        "schema_qualified_table_name" as they apply.
        """
        hook = self.opts.include_name
        return True if hook is None else bool(hook(name, type_, parent_names))

    def include_object(
        self,
        obj: SchemaItem | None,
        name: str | None,
        type_: str,
        reflected: bool,
        compare_to: SchemaItem | None,
    ) -> bool:
        """The ``include_object`` hook; ``obj`` is the model's object, or the reflected one."""
        hook = self.opts.include_object
        return True if hook is None else bool(hook(obj, name, type_, reflected, compare_to))


def metadata_list(target: Any, *, location: str | None = None) -> list[MetaData]:
    """``target_metadata`` as a list: a MetaData (or subclass, like GINO's ``db``) or several."""
    from sqlalchemy.schema import MetaData

    from amigrate.errors import ConfigError

    if target is None:
        raise ConfigError(
            "autogenerate needs your models: env.py passes no target_metadata",
            location=location,
            hint="set target_metadata = Base.metadata and pass it to context.configure()",
        )
    items = list(target) if isinstance(target, list | tuple) else [target]
    for item in items:
        if not isinstance(item, MetaData):
            holder = isinstance(getattr(item, "metadata", None), MetaData)
            raise ConfigError(
                f"target_metadata must be a MetaData or a list of them, not {type(item).__name__}",
                location=location,
                hint=f"pass {getattr(item, '__name__', 'it')}.metadata" if holder else None,
            )
    if not items:
        raise ConfigError("target_metadata is an empty list", location=location)
    return items


def compare(ctx: AutogenContext) -> UpgradeOps:
    """Reflect the database in bulk and compare it with the models: the upgrade op tree."""
    from sqlalchemy.exc import NoReferenceError

    from amigrate.autogenerate.compare import compare_schema
    from amigrate.autogenerate.reflect import reflect
    from amigrate.errors import ConfigError

    try:
        return compare_schema(ctx, reflect(ctx))
    except NoReferenceError as exc:  # a ForeignKey to a table no MetaData of the models has
        raise ConfigError(
            f"the models cannot be compared: {exc}",
            hint="a foreign key's target table must be in the same MetaData as the table",
        ) from exc


def produce_script(
    ctx: AutogenContext, *, rev_id: str | None = None, message: str | None = None
) -> MigrationScript:
    """The revision to be: the upgrade ops, and the downgrade made of their reverses."""
    from amigrate.operations.ops import MigrationScript

    upgrade = compare(ctx)
    return MigrationScript(
        rev_id, upgrade_ops=upgrade, downgrade_ops=upgrade.reverse(), message=message
    )
