"""The model versions walked by test_model_sequence.py, and the env.py that reads them.

Each ``Version`` is the whole models file as Python source (``models.py`` beside
amigrate.ini, read afresh by env.py at every command), built from the previous version by
replacing table blocks, so a reader sees per step what changed. ``facts`` are what a user
would check by hand after the upgrade (one ``sqlalchemy.inspect`` look each). A version
whose change is invisible on a backend (column comments on SQLite, a new enum value where
enums are VARCHAR) lists the backends it runs on; its models still carry forward.

The oracle that compares a migrated database with one made by ``create_all`` is in
_schema_oracle.py.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

HEADER = '''\
"""Models, version {number}: {message}."""
import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={{
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }}
)
'''

ENV_PY = '''\
"""env.py of the model-sequence tests: the models file is read afresh by every command."""
import runpy
from pathlib import Path

from amigrate import context

config = context.config
models = Path(__file__).resolve().parent.parent / "models.py"
target_metadata = runpy.run_path(str(models))["metadata"] if models.exists() else None


def do_run_migrations(connection):
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_server_default=True,
        compare_check_constraints=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online():
    async with context.connect() as connection:
        await connection.run_sync(do_run_migrations)
'''

Schema = dict[str, Any]
Fact = tuple[str, Callable[[Schema], bool]]
BOTH = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Version:
    """One state of the models: ``tables`` maps a table name to its source block."""

    message: str
    tables: dict[str, str]
    facts: tuple[Fact, ...] = ()
    backends: tuple[str, ...] = BOTH
    # substrings of ``check`` lines left after walking this version back (PostgreSQL
    # cannot drop an enum value): the downgrade is allowed to leave exactly these.
    leaves_on_downgrade: tuple[str, ...] = ()
    # patterns the written upgrade must hold (what the reviewer reads)
    writes: tuple[str, ...] = ()
    number: int = 0

    def source(self) -> str:
        blocks = [textwrap.dedent(block).strip() for block in self.tables.values()]
        header = HEADER.format(number=self.number, message=self.message)
        return header + "".join(f"\n\n{block}\n" for block in blocks)

    def then(
        self,
        message: str,
        *facts: Fact,
        backends: tuple[str, ...] = BOTH,
        writes: tuple[str, ...] = (),
        **tables: str | None,
    ) -> Version:
        """The next version: ``tables`` replaces blocks (None drops one; new ones go last)."""
        merged = dict(self.tables)
        for name, block in tables.items():
            if block is None:
                del merged[name]
            else:
                merged[name] = block
        return replace(
            self,
            message=message,
            tables=merged,
            facts=facts,
            backends=backends,
            leaves_on_downgrade=(),
            writes=writes,
            number=self.number + 1,
        )


# -- facts ------------------------------------------------------------------------------------


def column(table: str, name: str) -> Callable[[Schema], dict[str, Any]]:
    return lambda s: s["tables"][table]["columns"][name]


def has_column(table: str, name: str, present: bool = True) -> Fact:
    return (
        f"{table}.{name} {'exists' if present else 'is gone'}",
        lambda s: (name in s["tables"][table]["columns"]) is present,
    )


def nullable(table: str, name: str, value: bool) -> Fact:
    return (f"{table}.{name} nullable={value}", lambda s: column(table, name)(s)[1] is value)


def column_type(table: str, name: str, text: str) -> Fact:
    return (f"{table}.{name} is {text}", lambda s: column(table, name)(s)[0] == text)


def default(table: str, name: str, pattern: str) -> Fact:
    return (
        f"{table}.{name} defaults to {pattern}",
        lambda s: re.search(pattern, str(column(table, name)(s)[2])) is not None,
    )


def has_table(name: str, present: bool = True) -> Fact:
    return (
        f"table {name} {'exists' if present else 'is gone'}",
        lambda s: (name in s["tables"]) is present,
    )


def has_index(table: str, name: str, present: bool = True) -> Fact:
    return (
        f"index {name} {'exists' if present else 'is gone'}",
        lambda s: (name in s["tables"][table]["indexes"]) is present,
    )


def has_constraint(table: str, kind: str, name: str) -> Fact:
    return (f"{kind} {name} on {table}", lambda s: name in s["tables"][table][kind])


def fk_option(table: str, name: str, option: str, value: str) -> Fact:
    return (
        f"{name} {option} {value}",
        lambda s: s["tables"][table]["foreign_keys"][name][2].get(option) == value,
    )


def unique_index(table: str, name: str) -> Fact:
    return (f"{name} is unique", lambda s: s["tables"][table]["indexes"][name][0])


def computed_as(table: str, name: str, text: str) -> Fact:
    return (
        f"{table}.{name} is computed with {text}",
        lambda s: text in str(column(table, name)(s)[4]),
    )


def check(description: str, predicate: Callable[[Schema], bool]) -> Fact:
    return (description, predicate)


# -- the versions -------------------------------------------------------------------------------


def _table(name: str, items: list[str], after: str) -> str:
    """A ``sa.Table(...)`` block; ``items`` may hold ";"-separated groups, blanks skipped."""
    lines = [part.strip() for item in items for part in item.split(";") if part.strip()]
    body = "".join(f"    {line},\n" for line in lines)
    return f'{name} = sa.Table(\n    "{name}",\n    metadata,\n{body})\n{after}'


def _users(
    *,
    name: str = 'sa.Column("name", sa.String(50), nullable=False)',
    email: str = "",
    score: str = "",
    extra_columns: str = "",
    args: str = "",
    after: str = "",
) -> str:
    identity = 'sa.Column("id", sa.Integer, primary_key=True)'
    return _table("users", [identity, name, email, score, extra_columns, args], after)


def _posts(
    *,
    user_fk: str = 'sa.ForeignKey("users.id")',
    columns: str = "",
    args: str = "",
    after: str = "",
) -> str:
    fixed = [
        'sa.Column("id", sa.Integer, primary_key=True)',
        f'sa.Column("user_id", sa.Integer, {user_fk}, nullable=False)',
        'sa.Column("title", sa.String(200), nullable=False)',
        'sa.Column("body", sa.Text)',
    ]
    return _table("posts", [*fixed, columns, args], after)


USERS_1 = _users()
POSTS_1 = _posts()
EMAIL = 'sa.Column("email", sa.String(100), nullable=True)'
EMAIL_NN = 'sa.Column("email", sa.String(100), nullable=False, index=True)'
NAME_120 = 'sa.Column("name", sa.String(120), nullable=False)'
SCORE_0 = 'sa.Column("score", sa.Integer, nullable=False, server_default="0")'
SCORE_5 = 'sa.Column("score", sa.Integer, nullable=False, server_default="5")'
CREATED = 'sa.Column("created_at", sa.DateTime, nullable=True)'
CREATED_NOW = (
    'sa.Column("created_at", sa.DateTime, nullable=True, '
    'server_default=sa.text("CURRENT_TIMESTAMP"))'
)
UX_NAME = 'sa.Index("ux_users_name", users.c.name, unique=True)\n'
IX_LOWER = 'sa.Index("ix_users_lower_email", sa.func.lower(users.c.email))\n'
IX_RECENT = (
    'sa.Index("ix_posts_recent", posts.c.created_at, '
    'postgresql_where=sa.text("body IS NOT NULL"), sqlite_where=sa.text("body IS NOT NULL"))\n'
)
CASCADE_FK = 'sa.ForeignKey("users.id", ondelete="CASCADE", onupdate="CASCADE")'
UQ_TITLE = 'sa.UniqueConstraint("user_id", "title")'
CK_SCORE = 'sa.CheckConstraint("score >= 0", name="score_nonneg")'
COMMENTED = (
    'sa.Column("email", sa.String(100), nullable=False, index=True, comment="Where we write to")'
)
STATUS = 'sa.Column("status", sa.Enum("draft", "published", name="post_status"))'
STATUS_3 = 'sa.Column("status", sa.Enum("draft", "published", "archived", name="post_status"))'
NAME_LENGTH = 'sa.Column("name_length", sa.Integer, sa.Computed("length(name)", persisted=True))'
NAME_LENGTH_2 = (
    'sa.Column("name_length", sa.Integer, sa.Computed("length(name) + 1", persisted=True))'
)

COMMENTS = """
comments = sa.Table(
    "comments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("post_id", sa.ForeignKey("posts.id", ondelete="SET NULL"), nullable=True),
    sa.Column("text", sa.Text, nullable=False),
)
"""
COMMENTS_RENAMED = COMMENTS.replace('"text"', '"content"')
EVENTS = """
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(start=1), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
)
"""
EVENTS_2 = EVENTS.replace("sa.Identity(start=1)", "sa.Identity(start=1000, increment=10)")


def versions(backend: str) -> list[Version]:
    """The sequence on ``backend``: at least 15 versions, every change kind."""
    u = {"email": EMAIL_NN, "name": NAME_120}
    every: list[Version] = []
    v = Version("a users table", {"users": USERS_1}, (has_table("users"),), number=1)
    every.append(v)
    v = v.then("posts, with a foreign key", has_table("posts"), posts=POSTS_1)
    every.append(v)
    v = v.then(
        "new nullable columns",
        has_column("users", "email"),
        nullable("users", "email", True),
        has_column("posts", "created_at"),
        users=_users(email=EMAIL),
        posts=_posts(columns=CREATED),
    )
    every.append(v)
    v = v.then(
        "email required",
        nullable("users", "email", False),
        users=_users(email=EMAIL.replace("nullable=True", "nullable=False")),
    )
    every.append(v)
    v = v.then(
        "longer names",
        column_type("users", "name", "VARCHAR(120)"),
        users=_users(name=NAME_120, email=EMAIL.replace("nullable=True", "nullable=False")),
    )
    every.append(v)
    v = v.then(
        "a score with a server default",
        default("users", "score", "0"),
        users=_users(name=NAME_120, email=EMAIL.replace("True", "False"), score=SCORE_0),
    )
    every.append(v)
    v = v.then(
        "server defaults changed and added",
        default("users", "score", "5"),
        default("posts", "created_at", "(?i)current_timestamp"),
        users=_users(name=NAME_120, email=EMAIL.replace("True", "False"), score=SCORE_5),
        posts=_posts(columns=CREATED_NOW),
    )
    every.append(v)
    v = v.then(
        "plain and unique indexes",
        has_index("users", "ix_users_email"),
        unique_index("users", "ux_users_name"),
        users=_users(**u, score=SCORE_5, after=UX_NAME),
    )
    every.append(v)
    v = v.then(
        "expression and partial indexes",
        has_index("users", "ix_users_lower_email"),
        has_index("posts", "ix_posts_recent"),
        users=_users(**u, score=SCORE_5, after=UX_NAME + IX_LOWER),
        posts=_posts(columns=CREATED_NOW, after=IX_RECENT),
    )
    every.append(v)
    v = v.then(
        "a unique constraint",
        has_constraint("posts", "uniques", "uq_posts_user_id"),
        posts=_posts(columns=CREATED_NOW, args=UQ_TITLE, after=IX_RECENT),
    )
    every.append(v)
    v = v.then(
        "cascading foreign keys, and comments on posts",
        fk_option("posts", "fk_posts_user_id_users", "ondelete", "CASCADE"),
        fk_option("posts", "fk_posts_user_id_users", "onupdate", "CASCADE"),
        fk_option("comments", "fk_comments_post_id_posts", "ondelete", "SET NULL"),
        posts=_posts(user_fk=CASCADE_FK, columns=CREATED_NOW, args=UQ_TITLE, after=IX_RECENT),
        comments=COMMENTS,
    )
    every.append(v)
    v = v.then(
        "a named check constraint",
        has_constraint("users", "checks", "ck_users_score_nonneg"),
        writes=("score_nonneg",),
        users=_users(**u, score=SCORE_5, args=CK_SCORE, after=UX_NAME + IX_LOWER),
    )
    every.append(v)
    users = {"name": NAME_120, "email": COMMENTED, "score": SCORE_5}
    users_args = {"args": CK_SCORE + '; comment="People who sign in"', "after": UX_NAME + IX_LOWER}
    v = v.then(
        "table and column comments",
        check("users has its comment", lambda s: s["tables"]["users"]["comment"] is not None),
        check("users.email has its comment", lambda s: column("users", "email")(s)[3]),
        backends=("postgresql",),
        users=_users(**users, **users_args),
    )
    every.append(v)
    v = v.then("an enum column", has_column("posts", "status"), posts=_status_posts(STATUS))
    every.append(v)
    v = v.then(
        "an enum value added",
        check("post_status has 'archived'", lambda s: "archived" in s["enums"]["post_status"]),
        backends=("postgresql",),
        writes=(r"autocommit_block\(\)", "ADD VALUE IF NOT EXISTS 'archived'"),
        posts=_status_posts(STATUS_3),
    )
    v = replace(v, leaves_on_downgrade=("archived",))
    every.append(v)
    v = v.then(
        "a computed column",
        computed_as("users", "name_length", "length("),
        users=_users(**users, extra_columns=NAME_LENGTH, **users_args),
    )
    every.append(v)
    v = v.then(
        "the computed expression changed",
        computed_as("users", "name_length", "+ 1"),
        writes=(r"length\(name\) \+ 1",),
        users=_users(**users, extra_columns=NAME_LENGTH_2, **users_args),
    )
    every.append(v)
    v = v.then("an events table with an identity", has_table("events"), events=EVENTS)
    every.append(v)
    v = v.then(
        "the identity changed",
        check("events.id starts at 1000", lambda s: "1000" in str(column("events", "id")(s)[5])),
        backends=("postgresql",),
        writes=("1000",),
        events=EVENTS_2,
    )
    every.append(v)
    v = v.then(
        "a column renamed",
        has_column("comments", "content"),
        has_column("comments", "text", present=False),
        writes=(
            r'# (op\.alter_column\("comments", |batch_op\.alter_column\()'
            r'"text", new_column_name="content"\)',
        ),
        comments=COMMENTS_RENAMED,
    )
    every.append(v)
    v = v.then(
        "a table and a column removed",
        has_table("events", present=False),
        has_column("users", "name_length", present=False),
        events=None,
        users=_users(**users, **users_args),
    )
    every.append(v)
    return [version for version in every if backend in version.backends]


def _status_posts(status: str) -> str:
    return _posts(
        user_fk=CASCADE_FK, columns=f"{CREATED_NOW}; {status}", args=UQ_TITLE, after=IX_RECENT
    )
