"""Autogenerate end to end: the order of drops and creates across tables, and enum types."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from _autogen_project import autogen_project, write_models
from _envfactory import Backend, MigrationEnv, sync_connection

from amigrate import command

ORG = """
org = sa.Table(
    "org",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("code", sa.String(20), unique=True),
)
"""
MEMBER = """
member = sa.Table(
    "member",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("org_id", sa.BigInteger, sa.ForeignKey("org.id")),
    sa.Column("org_code", sa.String(20), sa.ForeignKey("org.code")),
)
"""
MEMBER_ALONE = """
member = sa.Table("member", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""
ORG_WITHOUT_CODE = """
org = sa.Table("org", metadata, sa.Column("id", sa.BigInteger, primary_key=True))
"""
MEMBER_WITHOUT_CODE = MEMBER.replace(
    '    sa.Column("org_code", sa.String(20), sa.ForeignKey("org.code")),\n', ""
)

postgresql_only = pytest.mark.parametrize(
    "backend", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


def read(path: str | None) -> str:
    assert path is not None
    return Path(path).read_text(encoding="utf-8")


def inspect(backend: Backend) -> dict[str, set[str]]:
    """Table → column names, as the database has them."""
    with sync_connection(backend.sync_url) as conn:
        inspector = sa.inspect(conn)
        return {
            t: {c["name"] for c in inspector.get_columns(t)}
            for t in inspector.get_table_names()
            if t != "alembic_version"
        }


def enum_types(backend: Backend) -> set[str]:
    with sync_connection(backend.sync_url) as conn:
        return set(conn.scalars(sa.text("SELECT typname FROM pg_type WHERE typtype = 'e'")))


async def _round_trip(env: MigrationEnv, backend: Backend, expected: dict[str, set[str]]) -> str:
    """Autogenerate, upgrade, check, downgrade -1, upgrade again; the revision's text."""
    before = inspect(backend)
    info = await command.revision(env.config, "change", autogenerate=True)
    assert info is not None
    await command.upgrade(env.config, "head")
    assert inspect(backend) == expected
    assert await command.check(env.config) == []
    await command.downgrade(env.config, "-1")
    assert inspect(backend) == before
    await command.upgrade(env.config, "head")
    assert inspect(backend) == expected
    return read(info.path)


# -- 1. foreign keys are dropped first and created last ------------------------------------------


async def test_dropping_a_referenced_table_and_its_foreign_key_column(
    env: MigrationEnv, backend: Backend
) -> None:
    autogen_project(env, ORG + MEMBER)
    await command.revision(env.config, "initial", autogenerate=True)
    await command.upgrade(env.config, "head")

    write_models(env, MEMBER_ALONE)
    await _round_trip(env, backend, {"member": {"id"}})


async def test_dropping_a_referenced_unique_column_and_its_foreign_key_column(
    env: MigrationEnv, backend: Backend
) -> None:
    autogen_project(env, ORG + MEMBER)
    await command.revision(env.config, "initial", autogenerate=True)
    await command.upgrade(env.config, "head")

    write_models(env, ORG_WITHOUT_CODE + MEMBER_WITHOUT_CODE)
    await _round_trip(env, backend, {"org": {"id"}, "member": {"id", "org_id"}})


async def test_adding_a_referenced_table_and_a_foreign_key_column(
    env: MigrationEnv, backend: Backend
) -> None:
    autogen_project(env, MEMBER_ALONE)
    await command.revision(env.config, "initial", autogenerate=True)
    await command.upgrade(env.config, "head")

    write_models(env, ORG + MEMBER)
    await _round_trip(env, backend, {"member": {"id", "org_id", "org_code"}, "org": {"id", "code"}})


# -- 2, 3. enum types -------------------------------------------------------------------------

PERSON = """
person = sa.Table(
    "person",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mood", sa.Enum("sad", "happy", name="mood")),
)
"""
PERSON_ALONE = """
person = sa.Table("person", metadata, sa.Column("id", sa.Integer, primary_key=True))
"""
PET = """
pet = sa.Table(
    "pet",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("mood", sa.Enum("sad", "happy", name="mood")),
)
"""


@postgresql_only
@pytest.mark.parametrize(
    ("then", "tables"),
    [
        pytest.param(PERSON_ALONE, {"person": {"id"}}, id="column"),
        pytest.param(PERSON_ALONE.replace('"person"', '"other"'), {"other": {"id"}}, id="table"),
    ],
)
async def test_an_enum_type_nothing_uses_any_more_is_dropped_in_the_same_revision(
    env: MigrationEnv, backend: Backend, then: str, tables: dict[str, set[str]]
) -> None:
    autogen_project(env, PERSON)
    await command.revision(env.config, "initial", autogenerate=True)
    await command.upgrade(env.config, "head")
    assert enum_types(backend) == {"mood"}

    write_models(env, then)
    text = await _round_trip(env, backend, tables)
    assert enum_types(backend) == set()
    upgrade, downgrade = text.split("def downgrade")
    assert "postgresql.DropEnumType" in upgrade
    assert "postgresql.CreateEnumType" in downgrade


@postgresql_only
async def test_new_enum_values_are_added_before_anything_else_runs(
    env: MigrationEnv, backend: Backend
) -> None:
    autogen_project(env, PERSON)
    await command.revision(env.config, "initial", autogenerate=True)
    await command.upgrade(env.config, "head")

    more = PERSON.replace('"happy", name="mood"', '"happy", "calm", name="mood"')
    # "animal" sorts before "person": its new type comes first, unless the values go first
    animal = PET.replace('"pet"', '"animal"').replace(
        '"sad", "happy", name="mood"', '"s", "m", name="size"'
    )
    write_models(env, animal + more)
    info = await command.revision(env.config, "more", autogenerate=True)
    assert info is not None
    upgrade = read(info.path).split("def downgrade")[0]
    assert upgrade.index("ADD VALUE") < upgrade.index("postgresql.CreateEnumType")
    await command.upgrade(env.config, "head")
    assert await command.check(env.config) == []
    assert enum_types(backend) == {"mood", "size"}


# -- 4. a column changed to or between enum types ------------------------------------------------

ACCOUNT = """
account = sa.Table(
    "account",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("kind", {type}),
)
"""


def udt_and_values(backend: Backend) -> tuple[str, list[str]]:
    with sync_connection(backend.sync_url) as conn:
        udt = conn.scalar(
            sa.text(
                "SELECT udt_name FROM information_schema.columns "
                "WHERE table_name = 'account' AND column_name = 'kind'"
            )
        )
        values = list(conn.scalars(sa.text("SELECT kind::text FROM account ORDER BY id")))
        return str(udt), values


def insert_accounts(backend: Backend) -> None:
    with sync_connection(backend.sync_url, begin=True) as conn:
        conn.execute(sa.text("INSERT INTO account (id, kind) VALUES (1, 'admin'), (2, 'user')"))


@postgresql_only
@pytest.mark.parametrize(
    ("old", "new", "udts", "upgrade_using", "downgrade_using"),
    [
        pytest.param(
            'sa.String(20), server_default="user"',
            'sa.Enum("user", "admin", name="kind"), server_default="user"',
            ("varchar", "kind"),
            '"kind::text::kind"',
            '"kind::text"',
            id="string-to-enum",
        ),
        pytest.param(
            'sa.Enum("user", "admin", name="kind"), server_default="user"',
            'sa.Enum("user", "admin", "guest", name="Kind 2"), server_default="admin"',
            ("kind", "Kind 2"),
            """'kind::text::"Kind 2"'""",
            '"kind::text::kind"',
            id="enum-to-enum",
        ),
        pytest.param(
            'sa.Enum("user", "admin", name="kind")',
            'sa.String(20), server_default="user"',
            ("kind", "varchar"),
            '"kind::text"',
            '"kind::text::kind"',
            id="enum-to-string",
        ),
        pytest.param(
            "sa.String(20)",
            'sa.Enum("user", "admin", name="kind"), server_default="user"',
            ("varchar", "kind"),
            '"kind::text::kind"',
            '"kind::text"',
            id="string-to-enum-with-a-new-default",
        ),
    ],
)
async def test_a_column_changed_to_an_enum_type_converts_its_values_and_default(
    env: MigrationEnv,
    backend: Backend,
    old: str,
    new: str,
    udts: tuple[str, str],
    upgrade_using: str,
    downgrade_using: str,
) -> None:
    autogen_project(env, ACCOUNT.format(type=old))
    await command.revision(env.config, "initial", autogenerate=True)
    await command.upgrade(env.config, "head")
    insert_accounts(backend)

    write_models(env, ACCOUNT.format(type=new))
    text = await _round_trip(env, backend, {"account": {"id", "kind"}})
    upgrade, downgrade = text.split("def downgrade")
    assert f"postgresql_using={upgrade_using}" in upgrade
    assert f"postgresql_using={downgrade_using}" in downgrade
    assert udt_and_values(backend) == (udts[1], ["admin", "user"])
    await command.downgrade(env.config, "-1")
    assert udt_and_values(backend) == (udts[0], ["admin", "user"])
    await command.upgrade(env.config, "head")
    assert udt_and_values(backend) == (udts[1], ["admin", "user"])
    assert enum_types(backend) == {udts[1]} - {"varchar"}


# -- 5. the rename suggestion --------------------------------------------------------------------

USERS = """
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("bio", sa.Text),
)
OPTIONS = {"render_as_batch": BATCH}
"""


@pytest.mark.parametrize(
    ("batch", "forward", "back"),
    [
        pytest.param(
            False,
            '# op.alter_column("users", "bio", new_column_name="about")',
            '# op.alter_column("users", "about", new_column_name="bio")',
            id="op",
        ),
        pytest.param(
            True,
            '# batch_op.alter_column("bio", new_column_name="about")',
            '# batch_op.alter_column("about", new_column_name="bio")',
            id="batch",
        ),
    ],
)
async def test_the_rename_suggestion_uses_double_quotes(
    env: MigrationEnv, backend: Backend, batch: bool, forward: str, back: str
) -> None:
    models = USERS.replace("BATCH", str(batch))
    autogen_project(env, models)
    await command.revision(env.config, "initial", autogenerate=True)
    await command.upgrade(env.config, "head")

    write_models(env, models.replace('"bio"', '"about"'))
    info = await command.revision(env.config, "rename", autogenerate=True)
    upgrade, downgrade = read(info.path if info is not None else None).split("def downgrade")
    assert forward in upgrade
    assert back in downgrade


CODES = """
org = sa.Table(
    "org",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(10)),
)
"""
CODES_REFERRED = (
    CODES.replace(
        'sa.Column("code", sa.String(10)),', 'sa.Column("code", sa.String(10), unique=True),'
    )
    + """
badge = sa.Table(
    "badge",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("org_code", sa.String(10), sa.ForeignKey("org.code")),
)
"""
)


async def test_a_new_table_may_refer_to_a_key_its_referent_gains_in_the_same_revision(
    env: MigrationEnv, backend: Backend
) -> None:
    autogen_project(env, CODES)
    await command.revision(env.config, "org", autogenerate=True)
    await command.upgrade(env.config, "head")
    write_models(env, CODES_REFERRED)
    await command.revision(env.config, "badge", autogenerate=True)
    await command.upgrade(env.config, "head")
    assert await command.check(env.config) == []
    await command.downgrade(env.config, "-1")
    assert "badge" not in await env.tables()
    await command.upgrade(env.config, "head")
    assert "badge" in await env.tables()


MEMBERS = """
org = sa.Table("org", metadata, sa.Column("id", sa.Integer, primary_key=True))
member = sa.Table(
    "member",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("org_id", sa.Integer, sa.ForeignKey("org.id")),
)
"""


async def test_a_foreign_key_lost_with_its_column_comes_back_with_it(
    env: MigrationEnv, backend: Backend
) -> None:
    autogen_project(env, MEMBERS)
    await command.revision(env.config, "tables", autogenerate=True)
    await command.upgrade(env.config, "head")
    write_models(
        env,
        MEMBERS.replace(', sa.ForeignKey("org.id")', "").replace(
            '    sa.Column("org_id", sa.Integer),\n', ""
        ),
    )
    await command.revision(env.config, "no org_id", autogenerate=True)
    await command.upgrade(env.config, "head")
    assert await command.check(env.config) == []
    await command.downgrade(env.config, "-1")
    with sync_connection(backend.sync_url) as conn:
        found = sa.inspect(conn).get_foreign_keys("member")
    assert [(fk["constrained_columns"], fk["referred_table"]) for fk in found] == [
        (["org_id"], "org")
    ]
