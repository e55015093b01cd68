"""compare_metadata, differential against Alembic: the same differences on the same objects.

For each case the database is made by ``create_all`` from models A, then both tools compare
it with models B: Alembic's ``alembic.autogenerate.compare_metadata`` on a sync connection,
and ``amigrate.compare_metadata`` on an async engine, both with ``compare_type`` and
``compare_server_default`` on. Both results are reduced to a set of (kind, table, object)
and must be equal — and not empty, so a case that neither tool notices fails too. The
cases cover what Alembic detects: tables, columns, nullability, types, server defaults,
indexes, unique constraints, foreign keys, table and column comments.
"""

from __future__ import annotations

from typing import Any

import pytest
from _envfactory import Backend, sync_connection

Key = tuple[str, str, str | None]

CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def models(
    *,
    tags: bool = False,
    email: bool = True,
    email_nullable: bool = True,
    name_length: int = 50,
    score_default: str | None = "0",
    email_index: bool = False,
    name_unique_index: bool = False,
    unique_title: bool = False,
    fk: bool = True,
    ondelete: str | None = None,
    table_comment: str | None = None,
    column_comment: str | None = None,
) -> Any:
    """Two tables (users, posts) and maybe a third (tags); each keyword is one variation."""
    import sqlalchemy as sa

    metadata = sa.MetaData(naming_convention=CONVENTION)
    columns = [
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(name_length), nullable=False),
        sa.Column("score", sa.Integer, nullable=False, server_default=score_default),
    ]
    if email:
        columns.append(
            sa.Column(
                "email",
                sa.String(100),
                nullable=email_nullable,
                index=email_index,
                comment=column_comment,
            )
        )
    users = sa.Table("users", metadata, *columns, comment=table_comment)
    if name_unique_index:
        sa.Index("ux_users_name", users.c.name, unique=True)
    user_id = (
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete=ondelete))
        if fk
        else sa.Column("user_id", sa.Integer)
    )
    posts = [sa.Column("id", sa.Integer, primary_key=True), user_id, sa.Column("title", sa.Text)]
    if unique_title:
        posts.append(sa.UniqueConstraint("title"))
    sa.Table("posts", metadata, *posts)
    if tags:
        sa.Table(
            "tags",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("label", sa.String(30)),
        )
    return metadata


CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("table added", {}, {"tags": True}),
    ("table removed", {"tags": True}, {}),
    ("column added", {"email": False}, {}),
    ("column removed", {}, {"email": False}),
    ("nullable", {}, {"email_nullable": False}),
    ("not null dropped", {"email_nullable": False}, {}),
    ("type", {}, {"name_length": 120}),
    ("server default changed", {}, {"score_default": "5"}),
    ("server default added", {"score_default": None}, {}),
    ("server default removed", {}, {"score_default": None}),
    ("index added", {}, {"email_index": True}),
    ("index removed", {"email_index": True}, {}),
    ("unique index added", {}, {"name_unique_index": True}),
    ("unique index removed", {"name_unique_index": True}, {}),
    ("unique constraint added", {}, {"unique_title": True}),
    ("unique constraint removed", {"unique_title": True}, {}),
    ("foreign key added", {"fk": False}, {}),
    ("foreign key removed", {}, {"fk": False}),
    ("foreign key ondelete", {}, {"ondelete": "CASCADE"}),
    (
        "everything at once",
        {"tags": True, "score_default": None, "unique_title": True},
        {"email_nullable": False, "name_length": 80, "email_index": True, "ondelete": "CASCADE"},
    ),
]
COMMENT_CASES = [
    ("table comment added", {}, {"table_comment": "People"}),
    ("table comment changed", {"table_comment": "People"}, {"table_comment": "Users"}),
    ("table comment removed", {"table_comment": "People"}, {}),
    ("column comment added", {}, {"column_comment": "Where we write"}),
    ("column comment removed", {"column_comment": "Where we write"}, {}),
]


def _key(diff: Any) -> list[Key]:
    """(kind, table, object) for one diff tuple (or list of modify_* tuples)."""
    if isinstance(diff, list):
        return [key for item in diff for key in _key(item)]
    kind, *rest = diff
    if kind.startswith("modify_") and kind != "modify_table_comment":
        _schema, table, column = rest[:3]
        return [(kind, table, column)]
    if kind in ("add_column", "remove_column"):
        return [(kind, rest[1], rest[2].name)]
    target = rest[0]
    if kind.endswith("_table") or "table_comment" in kind:
        return [(kind, target.name, None)]
    if kind.endswith("_fk"):
        columns = ",".join(c.name for c in target.columns)
        return [(kind, target.table.name, f"{columns}->{target.referred_table.name}")]
    return [(kind, target.table.name, target.name)]


def _keys(diffs: list[Any]) -> set[Key]:
    return {key for diff in diffs for key in _key(diff)}


def alembic_diffs(sync_url: str, target: Any) -> set[Key]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with sync_connection(sync_url) as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "target_metadata": target,
            },
        )
        return _keys(compare_metadata(context, target))


async def amigrate_diffs(async_url: str, target: Any) -> set[Key]:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    from amigrate import compare_metadata

    engine = create_async_engine(async_url, poolclass=NullPool)
    try:
        found = await compare_metadata(
            engine, target, compare_type=True, compare_server_default=True
        )
    finally:
        await engine.dispose()
    return _keys(found)


def _create(sync_url: str, metadata: Any) -> None:

    with sync_connection(sync_url, begin=True) as connection:
        metadata.create_all(connection)


async def _compare_both(backend: Backend, before: dict[str, Any], after: dict[str, Any]) -> None:
    _create(backend.sync_url, models(**before))
    target = models(**after)
    theirs = alembic_diffs(backend.sync_url, target)
    ours = await amigrate_diffs(backend.async_url, target)
    assert theirs, "the case is meant to be one Alembic detects"
    assert ours == theirs, f"only amigrate: {ours - theirs}; only Alembic: {theirs - ours}"


@pytest.mark.parametrize(("before", "after"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_same_differences_as_alembic(
    backend: Backend, before: dict[str, Any], after: dict[str, Any]
) -> None:
    await _compare_both(backend, before, after)


@pytest.mark.postgresql
@pytest.mark.parametrize(
    ("before", "after"), [c[1:] for c in COMMENT_CASES], ids=[c[0] for c in COMMENT_CASES]
)
async def test_same_comment_differences_as_alembic(
    postgres_server: Any, before: dict[str, Any], after: dict[str, Any]
) -> None:
    """Comments: PostgreSQL only (SQLite keeps none, and neither tool reports them there)."""
    from conftest import fresh_postgres_database

    with fresh_postgres_database(postgres_server) as backend:
        await _compare_both(backend, before, after)


async def test_no_differences_when_models_match(backend: Backend) -> None:
    _create(backend.sync_url, models(tags=True, unique_title=True, email_index=True))
    target = models(tags=True, unique_title=True, email_index=True)
    assert alembic_diffs(backend.sync_url, target) == set()
    assert await amigrate_diffs(backend.async_url, target) == set()
