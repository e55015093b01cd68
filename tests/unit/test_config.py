"""Config: the three sources, value expansion, checks on load, typed settings, discovery."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from amigrate.config import Config, PostWriteHook
from amigrate.errors import ConfigError


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def folders(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).mkdir(parents=True, exist_ok=True)


def load(directory: Path, text: str, name: str = "amigrate.ini", **kwargs: object) -> Config:
    return Config(write(directory, name, text), **kwargs)  # type: ignore[arg-type]


def error_of(directory: Path, text: str, name: str = "amigrate.ini") -> str:
    with pytest.raises(ConfigError) as caught:
        load(directory, text, name)
    return str(caught.value)


# An alembic.ini shaped like the one `alembic init` writes (our own wording): the [alembic]
# section, a [post_write_hooks] section whose hooks are commented out, and logging sections
# whose format strings are not valid interpolation and must be left alone.
ALEMBIC_INI = """
# Settings for one database's migrations.

[alembic]
# folder of env.py and the versions/ folder
script_location = %(here)s/alembic

# put the project folder on sys.path
prepend_sys_path = .

# revision file names; the default is %%(rev)s_%%(slug)s
# file_template = %%(year)d_%%(month).2d_%%(rev)s_%%(slug)s

# keep slugs short
# truncate_slug_length = 40

# several version folders, split by path_separator
# version_locations = %(here)s/bar:%(here)s/alembic/versions
path_separator = os

sqlalchemy.url = driver://user:pass@localhost/dbname


[post_write_hooks]
# format new revision files, e.g. with black:
# hooks = black
# black.type = console_scripts
# black.entrypoint = black
# black.options = -l 79 REVISION_SCRIPT_FILENAME

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""


# -- amigrate.ini and the INI syntax ------------------------------------------------------


def test_amigrate_ini_values_with_both_delimiters_and_lower_cased_keys(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [amigrate]
        script_location = migrations
        sqlalchemy.url: sqlite:///app.db
        Version_Table = app_versions
        """,
    )
    assert config.config_ini_section == "amigrate"
    assert config.config_file_name == str(tmp_path / "amigrate.ini")
    assert config.here == tmp_path
    assert config.script_location == tmp_path / "migrations"
    assert config.sqlalchemy_url == "sqlite:///app.db"
    assert config.get_main_option("VERSION_TABLE") == "app_versions"
    assert config.version_table == "app_versions"


@pytest.mark.parametrize(
    "text",
    [
        "[s]\nk = first\n    second\n    third\n",
        "[s]\nk =\n    first\n    second\n",
        "[s]\nk = first\n\n    after a blank line\n\nj = next\n",
        "[s]\nk = first\n    # a comment inside the value\n    second\n",
        "[s]\n  k = indented key\n    deeper continues\n  j = same indent is a new key\n",
        "[s]\nk = a = b : c\nj: x = y\n",
        "; comment\n# comment\n[s]\nk = v   \n\n\n",
        "[s]   ; text after the header is ignored\nk=v\nj =\ni : x : y\n",
        "[s]\r\nk = windows\r\n    line ends\r\n",
        "[s]\nk = form\x0cfeed\n",
        "[DEFAULT]\na = 1\n[s]\nk = v\n[DEFAULT]\nb = 2\n",
    ],
)
def test_multi_line_values_read_as_configparser_reads_them(tmp_path: Path, text: str) -> None:
    reference = configparser.RawConfigParser()
    reference.read_string(text)
    config = load(tmp_path, "[amigrate]\n" + text)
    assert config.get_section("s") == dict(reference.items("s"))


def test_default_section_is_a_fallback_for_every_section(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [DEFAULT]
        base = /srv/app
        any_custom_name = free

        [amigrate]
        script_location = %(base)s/migrations

        [myapp]
        base = /overridden
        path = %(base)s/data
        """,
    )
    assert config.script_location == Path("/srv/app/migrations")
    assert config.get_main_option("any_custom_name") == "free"
    assert config.get_section_option("myapp", "path") == "/overridden/data"
    assert config.location("base") == f"{tmp_path / 'amigrate.ini'}:2"
    assert config.sections() == ["amigrate", "myapp"]
    assert not config.has_section("DEFAULT")


def test_a_key_given_twice_names_both_lines(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        [amigrate]
        script_location = a
        sqlalchemy.url = sqlite://
        Script_Location = b
        """,
    )
    path = tmp_path / "amigrate.ini"
    assert message == f"{path}:4: key 'script_location' given twice in [amigrate]: lines 2 and 4"


def test_a_section_given_twice_names_both_lines(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[amigrate]\nscript_location = a\n\n[amigrate]\n")
    path = tmp_path / "amigrate.ini"
    assert message == f"{path}:4: section [amigrate] given twice: lines 1 and 4"


def test_a_line_that_is_neither_key_nor_section_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[amigrate]\nscript_location = a\njust some words\n")
    path = tmp_path / "amigrate.ini"
    assert message == (
        f"{path}:3: expected '[section]', 'key = value' or a comment, found 'just some words'"
    )


def test_a_key_with_a_space_is_a_forgotten_equals_sign(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[amigrate]\nsqlalchemy.url postgresql://u:pw@h/db\n")
    assert message == (
        f"{tmp_path / 'amigrate.ini'}:2: key 'sqlalchemy.url postgresql' contains a space"
        " (is a '=' missing?)"
    )


def test_a_key_before_any_section_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, "script_location = a\n[amigrate]\n")
    path = tmp_path / "amigrate.ini"
    assert message == f"{path}:1: 'script_location = a' comes before any [section] header"


def test_a_file_that_is_not_utf8_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "amigrate.ini"
    path.write_bytes(b"[amigrate]\nscript_location = caf\xe9\n")
    with pytest.raises(ConfigError) as caught:
        Config(path)
    assert str(caught.value) == f"{path}:2: the file is not UTF-8 text"


# -- expansion ----------------------------------------------------------------------------


def test_here_is_the_config_folder_and_double_percent_a_literal(tmp_path: Path) -> None:
    config = load(
        tmp_path / "project",
        """
        [amigrate]
        script_location = %(here)s/migrations
        file_template = %%(year)d_%%(rev)s_%%(slug)s
        timezone = 100%%
        """,
    )
    assert config.script_location == tmp_path / "project" / "migrations"
    assert config.get_main_option("here") == str(tmp_path / "project")
    assert config.file_template == "%(year)d_%(rev)s_%(slug)s"
    assert config.timezone == "100%"


def test_in_memory_config_uses_the_working_directory_as_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = Config()
    config.set_main_option("script_location", "%(here)s/migrations")
    assert config.path is None
    assert config.config_file_name is None
    assert config.config_ini_section == "amigrate"
    assert config.script_location == tmp_path / "migrations"
    assert config.location("script_location") is None


def test_environment_variables_with_fallbacks_and_literal_dollars(tmp_path: Path) -> None:
    environ = {"DB_HOST": "db.internal", "EMPTY": "", "PERCENT": "50%"}
    config = load(
        tmp_path,
        """
        [amigrate]
        sqlalchemy.url = postgresql://app:pa$word@${DB_HOST}/app
        sqlalchemy.unset_default = ${DB_PORT:-5432}
        sqlalchemy.empty_default = ${EMPTY:-used when empty}
        sqlalchemy.empty = [${EMPTY}]
        sqlalchemy.fallback_here = ${NO_SUCH:-%(here)s/local.db}
        sqlalchemy.not_reexpanded = ${PERCENT}
        sqlalchemy.dollars = $${DB_HOST} costs $$5
        """,
        environ=environ,
    )
    assert config.sqlalchemy_url == "postgresql://app:pa$word@db.internal/app"
    assert config.get_main_option("sqlalchemy.unset_default") == "5432"
    assert config.get_main_option("sqlalchemy.empty_default") == "used when empty"
    assert config.get_main_option("sqlalchemy.empty") == "[]"
    assert config.get_main_option("sqlalchemy.fallback_here") == f"{tmp_path}/local.db"
    assert config.get_main_option("sqlalchemy.not_reexpanded") == "50%"
    assert config.get_main_option("sqlalchemy.dollars") == "${DB_HOST} costs $5"


def test_environment_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMIGRATE_TEST_URL", "sqlite:///from-env.db")
    config = load(tmp_path, "[amigrate]\nsqlalchemy.url = ${AMIGRATE_TEST_URL}\n")
    assert config.sqlalchemy_url == "sqlite:///from-env.db"


def test_an_unset_variable_fails_only_the_key_that_is_read(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [amigrate]
        script_location = migrations
        sqlalchemy.url = ${DATABASE_URL}
        """,
        environ={},
    )
    assert config.script_location == tmp_path / "migrations"
    with pytest.raises(ConfigError) as caught:
        _ = config.sqlalchemy_url
    assert str(caught.value) == (
        f"{tmp_path / 'amigrate.ini'}:3: environment variable DATABASE_URL is not set "
        "(used by sqlalchemy.url in [amigrate])"
    )


def test_an_unset_variable_behind_a_reference_points_at_its_own_line(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [DEFAULT]
        host = ${DB_HOST}

        [amigrate]
        sqlalchemy.url = postgresql://%(host)s/app
        """,
        environ={},
    )
    with pytest.raises(ConfigError) as caught:
        config.get_section("amigrate")
    assert str(caught.value) == (
        f"{tmp_path / 'amigrate.ini'}:2: environment variable DB_HOST is not set "
        "(used by host in [amigrate])"
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "50% off",
            "'%' must be followed by '%' or '(name)s' in timezone of [amigrate]"
            " (write %% for a literal %)",
        ),
        (
            "%(rev)s",
            "%(rev)s in timezone names no key of [amigrate] (write %% for a literal %)",
        ),
        (
            "${DB HOST}",
            "bad environment variable reference in timezone of [amigrate]"
            " (write ${NAME} or ${NAME:-fallback}, or $$ for a literal $)",
        ),
        (
            "${UNCLOSED",
            "bad environment variable reference in timezone of [amigrate]"
            " (write ${NAME} or ${NAME:-fallback}, or $$ for a literal $)",
        ),
    ],
)
def test_malformed_references_are_errors_at_their_line(
    tmp_path: Path, value: str, message: str
) -> None:
    config = load(tmp_path, f"[amigrate]\n\ntimezone = {value}\n")
    with pytest.raises(ConfigError) as caught:
        _ = config.timezone
    assert str(caught.value) == f"{tmp_path / 'amigrate.ini'}:3: {message}"


@pytest.mark.parametrize("name", ["alembic.ini", "migrations.ini"])
def test_files_written_for_alembic_keep_every_dollar_as_alembic_does(
    tmp_path: Path, name: str
) -> None:
    text = """
        [alembic]
        script_location = %(here)s/migrations
        sqlalchemy.url = postgresql://app:pa$$w0rd@${DB_HOST}/app
        timezone = ${NOT_SET} $ 100%%
        """
    config = load(tmp_path, text, name=name, environ={"DB_HOST": "db.internal"})
    assert config.sqlalchemy_url == "postgresql://app:pa$$w0rd@${DB_HOST}/app"
    assert config.timezone == "${NOT_SET} $ 100%"
    assert config.script_location == tmp_path / "migrations"
    reference = configparser.ConfigParser(defaults={"here": str(tmp_path)})
    reference.read(tmp_path / name)
    assert config.get_main_option("sqlalchemy.url") == reference.get("alembic", "sqlalchemy.url")
    assert config.timezone == reference.get("alembic", "timezone")


def test_an_ini_with_an_amigrate_section_expands_variables(tmp_path: Path) -> None:
    text = "[alembic]\n[amigrate]\nsqlalchemy.url = postgresql://app:pa$$w0rd@${DB_HOST}/app\n"
    config = load(tmp_path, text, name="migrations.ini", environ={"DB_HOST": "db.internal"})
    assert config.sqlalchemy_url == "postgresql://app:pa$w0rd@db.internal/app"


def test_keys_referring_to_each_other_are_an_error(tmp_path: Path) -> None:
    config = load(tmp_path, "[amigrate]\n[myapp]\na = %(b)s\nb = x%(a)s\n")
    with pytest.raises(ConfigError) as caught:
        config.get_section_option("myapp", "a")
    assert str(caught.value) == (
        f"{tmp_path / 'amigrate.ini'}:4: keys of [myapp] refer to each other: a -> b -> a"
    )


# -- pyproject.toml -----------------------------------------------------------------------

PYPROJECT = """
[project]
name = "shop"

[tool.amigrate]
script_location = "migrations"
sqlalchemy.url = "${SHOP_DB:-sqlite:///shop.db}"
"sqlalchemy.echo" = true
version_locations = ["%(here)s/migrations/versions", "plugins/versions"]
prepend_sys_path = ["src"]
truncate_slug_length = 20
lock_timeout = 2.5
sourceless = false
databases = ["shop", "audit"]

[tool.amigrate.shop]
sqlalchemy.url = "postgresql://db/shop"

[tool.amigrate.audit]
sqlalchemy.url = "postgresql://db/audit"
version_table_schema = "audit"

[tool.amigrate.post_write_hooks]
hooks = ["ruff"]
ruff.type = "module"
ruff.module = "ruff"
ruff.options = "format REVISION_SCRIPT_FILENAME"

[tool.amigrate.tenant]
script_location = "tenant_migrations"
"""


def test_pyproject_table_with_typed_values_lists_and_sub_tables(tmp_path: Path) -> None:
    folders(tmp_path, "migrations/versions", "plugins/versions")
    config = load(tmp_path, PYPROJECT, name="pyproject.toml", environ={})
    path = tmp_path / "pyproject.toml"
    assert config.config_ini_section == "amigrate"
    assert config.script_location == tmp_path / "migrations"
    assert config.sqlalchemy_url == "sqlite:///shop.db"
    assert config.get_main_option("sqlalchemy.echo") == "true"
    assert config.version_locations == [
        tmp_path / "migrations" / "versions",
        tmp_path / "plugins" / "versions",
    ]
    assert config.prepend_sys_path == [str(tmp_path / "src")]
    assert config.truncate_slug_length == 20
    assert config.lock_timeout == 2.5
    assert config.sourceless is False
    assert config.databases == ["shop", "audit"]
    assert config.get_main_option("databases") == "shop, audit"
    assert config.get_section_option("audit", "version_table_schema") == "audit"
    assert config.sections() == ["amigrate", "shop", "audit", "post_write_hooks", "tenant"]
    assert config.post_write_hooks == [
        PostWriteHook(
            name="ruff",
            type="module",
            options={"module": "ruff", "options": "format REVISION_SCRIPT_FILENAME"},
            location=f"{path}:24",
        )
    ]
    assert config.location("sqlalchemy.url") == f"{path}:6"
    assert config.location("sqlalchemy.echo") == f"{path}:7"
    assert config.location("sqlalchemy.url", "audit") == f"{path}:19"


def test_pyproject_sub_table_chosen_by_name(tmp_path: Path) -> None:
    config = load(tmp_path, PYPROJECT, name="pyproject.toml", section="tenant", environ={})
    assert config.config_ini_section == "tenant"
    assert config.script_location == tmp_path / "tenant_migrations"


def test_pyproject_errors_name_the_table_and_line(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        """
        [tool.amigrate]
        script_location = "migrations"
        scrpt_location = "typo"
        """,
        name="pyproject.toml",
    )
    assert message == (
        f"{tmp_path / 'pyproject.toml'}:3: unknown key 'scrpt_location' in [tool.amigrate]"
        " (did you mean 'script_location'?)"
    )


def test_unknown_key_of_a_named_main_table_suggests_another_table(tmp_path: Path) -> None:
    text = '[tool.amigrate.myapp]\nscript_location = "m"\nslack_webhook = "https://x"\n'
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, name="pyproject.toml", section="myapp")
    assert str(caught.value) == (
        f"{tmp_path / 'pyproject.toml'}:3: unknown key 'slack_webhook' in"
        " [tool.amigrate.myapp] (custom settings belong in a section of their own,"
        " such as [tool.amigrate.settings])"
    )
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, "[myapp]\nslack_webhook = x\n", section="myapp")
    assert str(caught.value).endswith("such as [settings])")


def test_pyproject_a_list_where_one_value_belongs(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, '[tool.amigrate]\nscript_location = ["a", "b"]\n', name="pyproject.toml"
    )
    assert (
        message == f"{tmp_path / 'pyproject.toml'}:2: script_location takes one value, not a list"
    )


def test_pyproject_alembic_style_hook_array_is_refused_with_the_table_form(
    tmp_path: Path,
) -> None:
    message = error_of(
        tmp_path,
        """
        [tool.amigrate]
        script_location = "migrations"

        [[tool.amigrate.post_write_hooks]]
        name = "ruff"
        type = "exec"
        """,
        name="pyproject.toml",
    )
    assert message == (
        f"{tmp_path / 'pyproject.toml'}:4: post_write_hooks must be a string, number, boolean"
        ' or list of strings (write a [tool.amigrate.post_write_hooks] table: hooks = ["ruff"],'
        " ruff.type = ...)"
    )


def test_invalid_toml_points_at_its_line(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, '[tool.amigrate]\nscript_location = "a"\nbroken\n', "pyproject.toml"
    )
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}:3: invalid TOML: ")


def test_pyproject_without_the_table(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[project]\nname = "x"\n', name="pyproject.toml")
    assert message == f"no [tool.amigrate] table in {tmp_path / 'pyproject.toml'}"
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, PYPROJECT, name="pyproject.toml", section="billing")
    assert str(caught.value) == (
        f"no [tool.amigrate.billing] table in {tmp_path / 'pyproject.toml'}; it has "
        "[tool.amigrate], [tool.amigrate.shop], [tool.amigrate.audit], "
        "[tool.amigrate.post_write_hooks], [tool.amigrate.tenant]"
    )


# -- alembic.ini --------------------------------------------------------------------------


def test_alembic_ini_as_alembic_init_writes_it(tmp_path: Path) -> None:
    config = load(tmp_path, ALEMBIC_INI, name="alembic.ini")
    assert config.config_ini_section == "alembic"
    assert config.script_location == tmp_path / "alembic"
    assert config.version_locations == [tmp_path / "alembic" / "versions"]
    assert config.prepend_sys_path == [str(tmp_path)]
    assert config.sqlalchemy_url == "driver://user:pass@localhost/dbname"
    assert config.file_template == "%(rev)s_%(slug)s"
    assert config.post_write_hooks == []
    assert config.has_section("formatter_generic")
    assert "loggers" in config.sections()
    assert config.get_section_option("logger_alembic", "level") == "INFO"


def test_alembic_ini_with_hooks_and_several_version_folders(tmp_path: Path) -> None:
    text = ALEMBIC_INI.replace(
        "# version_locations = %(here)s/bar:%(here)s/alembic/versions",
        f"version_locations = %(here)s/bar{os.pathsep}%(here)s/alembic/versions",
    ).replace("# hooks = black\n# black.type", "hooks = black\nblack.type")
    text = text.replace("# black.entrypoint", "black.entrypoint")
    folders(tmp_path, "bar", "alembic/versions")
    config = load(tmp_path, text, name="alembic.ini")
    assert config.version_locations == [tmp_path / "bar", tmp_path / "alembic" / "versions"]
    lines = (tmp_path / "alembic.ini").read_text().splitlines()
    type_line = lines.index("black.type = console_scripts") + 1
    assert config.post_write_hooks == [
        PostWriteHook(
            "black", "console_scripts", {"entrypoint": "black"}, f"{config.path}:{type_line}"
        )
    ]


def test_alembic_ini_without_path_separator_follows_alembics_legacy_splitting(
    tmp_path: Path,
) -> None:
    text = """
        [alembic]
        script_location = migrations
        version_locations = a, b c
        prepend_sys_path = src:lib, tools
        """
    folders(tmp_path / "alembic", "a", "b", "c")
    alembic = load(tmp_path / "alembic", text, name="alembic.ini")
    assert alembic.version_locations == [tmp_path / "alembic" / name for name in "abc"]
    assert alembic.prepend_sys_path == [
        str(tmp_path / "alembic" / name) for name in ("src", "lib", "tools")
    ]
    ours = load(tmp_path / "ours", text.replace("[alembic]", "[amigrate]"))
    assert ours.prepend_sys_path == [str(tmp_path / "ours" / name) for name in ("src:lib", "tools")]


def test_version_path_separator_applies_to_version_locations_only(tmp_path: Path) -> None:
    folders(tmp_path, "one", "two")
    config = load(
        tmp_path,
        """
        [alembic]
        script_location = migrations
        version_path_separator = ;
        version_locations = one;two
        prepend_sys_path = three;four
        """,
        name="alembic.ini",
    )
    assert config.version_locations == [tmp_path / "one", tmp_path / "two"]
    assert config.prepend_sys_path == [str(tmp_path / "three;four")]


# What `alembic init -t pyproject` splits between the two files (our own wording).
SPLIT_ALEMBIC_INI = """
[alembic]
sqlalchemy.url = postgresql://app:pa$$w0rd@db/app
truncate_slug_length = 12

[loggers]
keys = root
"""

TOOL_ALEMBIC = """
[project]
name = "shop"

[tool.alembic]
script_location = "%(here)s/alembic"
file_template = "%%(year)d_%%(rev)s_%%(slug)s"
prepend_sys_path = ["."]
version_locations = ["%(here)s/alembic/versions", "%(here)s/plugins"]
truncate_slug_length = 30
recursive_version_locations = true

[[tool.alembic.post_write_hooks]]
name = "ruff"
type = "module"
module = "ruff"
options = "check --fix REVISION_SCRIPT_FILENAME"

[[tool.alembic.post_write_hooks]]
name = "ruff"
type = "exec"
executable = "ruff"
options = "format REVISION_SCRIPT_FILENAME"
"""


def test_alembic_ini_takes_the_settings_alembic_keeps_in_pyproject(tmp_path: Path) -> None:
    pyproject = write(tmp_path, "pyproject.toml", TOOL_ALEMBIC)
    folders(tmp_path, "alembic/versions", "plugins")
    config = load(tmp_path, SPLIT_ALEMBIC_INI, name="alembic.ini")
    assert config.script_location == tmp_path / "alembic"
    assert config.file_template == "%(year)d_%(rev)s_%(slug)s"
    assert config.prepend_sys_path == [str(tmp_path / ".")]
    assert config.version_locations == [tmp_path / "alembic" / "versions", tmp_path / "plugins"]
    assert config.recursive_version_locations is True
    assert config.truncate_slug_length == 12  # the ini wins
    assert config.sqlalchemy_url == "postgresql://app:pa$$w0rd@db/app"
    assert config.location("script_location") == f"{pyproject}:5"
    assert config.location("sqlalchemy.url") == f"{tmp_path / 'alembic.ini'}:2"
    assert config.post_write_hooks == [
        PostWriteHook(
            "ruff",
            "module",
            {"module": "ruff", "options": "check --fix REVISION_SCRIPT_FILENAME"},
            f"{pyproject}:14",
        ),
        PostWriteHook(  # Alembic runs both; our hooks need names of their own
            "ruff-2",
            "exec",
            {"executable": "ruff", "options": "format REVISION_SCRIPT_FILENAME"},
            f"{pyproject}:20",
        ),
    ]


def test_alembic_ini_without_an_alembic_section_next_to_tool_alembic(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", TOOL_ALEMBIC)
    config = load(tmp_path, "[loggers]\nkeys = root\n", name="alembic.ini")
    assert config.config_ini_section == "alembic"
    assert config.script_location == tmp_path / "alembic"


def test_tool_alembic_is_read_for_alembic_files_only(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", TOOL_ALEMBIC)
    text = SPLIT_ALEMBIC_INI.replace("[alembic]", "[amigrate]")
    assert load(tmp_path, text).get_main_option("script_location") is None


def test_the_ini_hooks_section_wins_over_tool_alembic_hooks(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", TOOL_ALEMBIC)
    config = load(tmp_path, SPLIT_ALEMBIC_INI + "[post_write_hooks]\n", name="alembic.ini")
    assert config.post_write_hooks == []
    assert config.script_location == tmp_path / "alembic"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[tool.alembic]\nscrpt_location = "x"\n',
            ":2: unknown key 'scrpt_location' in [tool.alembic] (did you mean 'script_location'?)",
        ),
        (
            '[[tool.alembic.post_write_hooks]]\nname = "black"\ntype = "console_scripts"\n'
            'entry_point = "black"\n',
            ":4: unknown key 'black.entry_point' in [tool.alembic.post_write_hooks]"
            " (did you mean 'black.entrypoint'?)",
        ),
        (
            '[[tool.alembic.post_write_hooks]]\ntype = "exec"\n',
            ":1: each [[tool.alembic.post_write_hooks]] table needs a name without spaces or"
            ' commas (for example name = "ruff")',
        ),
        (
            "[tool.alembic.post_write_hooks]\nhooks = ['ruff']\n",
            ":1: post_write_hooks in [tool.alembic] must be an array of tables (write each hook"
            ' as a [[tool.alembic.post_write_hooks]] table with name = "...")',
        ),
    ],
)
def test_mistakes_in_tool_alembic_point_at_pyproject(
    tmp_path: Path, toml: str, message: str
) -> None:
    pyproject = write(tmp_path, "pyproject.toml", toml)
    assert error_of(tmp_path, SPLIT_ALEMBIC_INI, name="alembic.ini") == f"{pyproject}{message}"


@pytest.mark.parametrize(
    ("separator", "value"),
    [
        ("os", f"a dir{os.pathsep} b"),
        ("space", "a  b"),
        ("comma", "a, b"),
        ("colon", "a:b"),
        (":", "a:b"),
        ("semicolon", "a;b"),
        (";", "a;b"),
        ("newline", "\n    a\n    b"),
    ],
)
def test_path_separator_names(tmp_path: Path, separator: str, value: str) -> None:
    text = f"[amigrate]\npath_separator = {separator}\nversion_locations = {value}\n"
    config = load(tmp_path, text)
    expected = ["a dir", "b"] if separator == "os" else ["a", "b"]
    folders(tmp_path, *expected)
    assert config.version_locations == [tmp_path / name for name in expected]


def test_amigrate_ini_splits_version_locations_on_commas_and_whitespace(tmp_path: Path) -> None:
    folders(tmp_path, "a", "b", "c")
    config = load(
        tmp_path,
        "[amigrate]\nscript_location = m\nversion_locations = a, b\n    c\n",
    )
    assert config.version_locations == [tmp_path / "a", tmp_path / "b", tmp_path / "c"]


def test_a_version_location_that_does_not_exist(tmp_path: Path) -> None:
    folders(tmp_path, "versions")
    config = load(tmp_path, "[amigrate]\nscript_location = m\nversion_locations = versions typo\n")
    with pytest.raises(ConfigError) as caught:
        _ = config.version_locations
    assert str(caught.value) == (
        f"{tmp_path / 'amigrate.ini'}:3: version location '{tmp_path / 'typo'}' does not exist"
        " (create it, or fix version_locations)"
    )


def test_a_version_location_that_is_a_file(tmp_path: Path) -> None:
    write(tmp_path, "versions.py", "")
    config = load(tmp_path, "[amigrate]\n\nversion_locations = versions.py\n")
    with pytest.raises(ConfigError) as caught:
        _ = config.version_locations
    assert str(caught.value) == (
        f"{tmp_path / 'amigrate.ini'}:3: version location '{tmp_path / 'versions.py'}'"
        " is a file (list folders only)"
    )


def test_the_default_version_location_may_be_missing(tmp_path: Path) -> None:
    config = load(tmp_path, "[amigrate]\nscript_location = m\n")
    assert config.version_locations == [tmp_path / "m" / "versions"]
    assert not (tmp_path / "m" / "versions").exists()


def test_a_version_location_listed_twice_is_read_once(tmp_path: Path) -> None:
    folders(tmp_path, "a/versions", "b")
    text = "[amigrate]\nversion_locations = a/versions, b, a/versions/, %(here)s/a/../b\n"
    config = load(tmp_path, text)
    assert config.version_locations == [tmp_path / "a" / "versions", tmp_path / "b"]


# -- choosing the main section ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "sections", "chosen"),
    [
        ("alembic.ini", ["alembic"], "alembic"),
        ("alembic.ini", ["alembic", "amigrate"], "alembic"),
        ("alembic.ini", ["amigrate"], "amigrate"),
        ("migrations.ini", ["alembic"], "alembic"),
        ("migrations.ini", ["alembic", "amigrate"], "amigrate"),
        ("amigrate.ini", ["amigrate", "other"], "amigrate"),
    ],
)
def test_main_section_follows_file_name_and_content(
    tmp_path: Path, name: str, sections: list[str], chosen: str
) -> None:
    text = "".join(f"[{section}]\nscript_location = {section}\n" for section in sections)
    config = load(tmp_path, text, name=name)
    assert config.config_ini_section == chosen
    assert config.script_location == tmp_path / chosen


def test_section_option_picks_another_section(tmp_path: Path) -> None:
    text = "[amigrate]\nscript_location = a\n\n[tenant]\nscript_location = b\n"
    config = load(tmp_path, text, section="tenant")
    assert config.config_ini_section == "tenant"
    assert config.script_location == tmp_path / "b"
    assert config.get_section_option("amigrate", "script_location") == "a"


def test_missing_main_section_lists_the_sections_found(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[loggers]\nkeys = root\n[handlers]\nkeys = console\n")
    assert (
        message
        == f"no [amigrate] section in {tmp_path / 'amigrate.ini'}; it has [loggers], [handlers]"
    )
    message = error_of(tmp_path, "# nothing yet\n")
    assert message == f"no [amigrate] section in {tmp_path / 'amigrate.ini'}; it has no sections"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Config(tmp_path / "nope.ini")
    assert str(caught.value) == f"config file not found: {tmp_path / 'nope.ini'}"


def test_a_directory_given_as_the_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        Config.discover(tmp_path, file=".", environ={})
    assert str(caught.value) == f"config file '{tmp_path}' is a directory"


# -- checks on load -----------------------------------------------------------------------


def test_unknown_main_key_suggests_the_closest(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[amigrate]\n\nscrpt_location = migrations\n")
    assert message == (
        f"{tmp_path / 'amigrate.ini'}:3: unknown key 'scrpt_location' in [amigrate]"
        " (did you mean 'script_location'?)"
    )


def test_unknown_main_key_with_nothing_close_points_to_own_sections(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[alembic]\nslack_webhook = https://x\n", name="alembic.ini")
    assert message == (
        f"{tmp_path / 'alembic.ini'}:2: unknown key 'slack_webhook' in [alembic]"
        " (custom settings belong in a section of their own, such as [myapp])"
    )


def test_own_sections_and_engine_options_are_free(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [amigrate]
        sqlalchemy.url = sqlite://
        sqlalchemy.pool_pre_ping = true

        [myapp]
        slack_webhook = https://example.invalid/hook
        """,
    )
    assert config.get_section_option("myapp", "slack_webhook") == "https://example.invalid/hook"
    assert config.get_section("amigrate") == {
        "sqlalchemy.url": "sqlite://",
        "sqlalchemy.pool_pre_ping": "true",
    }
    assert config.get_section("nope", {"x": "y"}) == {"x": "y"}
    assert config.get_section_option("nope", "x", "fallback") == "fallback"


def test_settings_of_a_hook_not_listed_are_a_disabled_hook(tmp_path: Path) -> None:
    path = tmp_path / "amigrate.ini"
    path.write_text(
        "[amigrate]\nscript_location = m\n[post_write_hooks]\n# hooks = ruff\n"
        "ruff.type = exec\nruff.executable = ruff\n"
    )
    assert Config(path).post_write_hooks == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "black.entry_point = black",
            "unknown key 'black.entry_point' in [post_write_hooks]"
            " (did you mean 'black.entrypoint'?)",
        ),
        (
            "type = exec",
            "unknown key 'type' in [post_write_hooks] (a hook's settings are NAME.type,"
            " NAME.entrypoint, NAME.executable, NAME.module, NAME.options, NAME.cwd)",
        ),
        (
            "colour = never",
            "unknown key 'colour' in [post_write_hooks] (a hook's settings are NAME.type,"
            " NAME.entrypoint, NAME.executable, NAME.module, NAME.options, NAME.cwd)",
        ),
    ],
)
def test_post_write_hooks_keys_are_checked(tmp_path: Path, line: str, message: str) -> None:
    text = f"[amigrate]\n[post_write_hooks]\nhooks = black\nblack.type = console_scripts\n{line}\n"
    assert error_of(tmp_path, text) == f"{tmp_path / 'amigrate.ini'}:5: {message}"


def test_a_hook_without_type(tmp_path: Path) -> None:
    config = load(
        tmp_path, "[amigrate]\n[post_write_hooks]\nhooks = black\nblack.entrypoint = black\n"
    )
    with pytest.raises(ConfigError) as caught:
        _ = config.post_write_hooks
    assert str(caught.value) == (
        f"{tmp_path / 'amigrate.ini'}:3: hook 'black' has no black.type in [post_write_hooks]"
        " (for example console_scripts, exec or module)"
    )


def test_database_sections_of_a_many_database_setup(tmp_path: Path) -> None:
    text = """
        [amigrate]
        script_location = migrations
        databases = engine1, engine2

        [engine1]
        sqlalchemy.url = sqlite:///one.db
        version_table = one_version

        [engine2]
        sqlalchemy.url = sqlite:///two.db
        verison_table_schema = two
        """
    message = error_of(tmp_path, text)
    assert message == (
        f"{tmp_path / 'amigrate.ini'}:11: unknown key 'verison_table_schema' in [engine2]"
        " (did you mean 'version_table_schema'?)"
    )
    config = load(tmp_path, text.replace("verison", "version"))
    assert config.databases == ["engine1", "engine2"]
    assert config.get_section_option("engine1", "version_table") == "one_version"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "truncate_slug_length = forty",
            "truncate_slug_length must be a whole number above 0, not 'forty'",
        ),
        (
            "truncate_slug_length = 0",
            "truncate_slug_length must be a whole number above 0, not '0'",
        ),
        (
            "path_separator = pipe",
            "path_separator must be one of os, space, comma, colon, semicolon or newline,"
            " not 'pipe'",
        ),
        (
            "version_path_separator = |",
            "version_path_separator must be one of os, space, comma, colon, semicolon or newline,"
            " not '|'",
        ),
        ("lock_timeout = soon", "lock_timeout must be a number of seconds, not 'soon'"),
        ("lock_timeout = -1", "lock_timeout must be a number of seconds, not '-1'"),
        ("sourceless = maybe", "sourceless must be true or false, not 'maybe'"),
    ],
)
def test_malformed_values_are_errors_on_load(tmp_path: Path, line: str, message: str) -> None:
    text = f"[amigrate]\nscript_location = m\n{line}\n"
    assert error_of(tmp_path, text) == f"{tmp_path / 'amigrate.ini'}:3: {message}"


def test_a_value_from_an_unset_variable_is_checked_when_read(tmp_path: Path) -> None:
    config = load(tmp_path, "[amigrate]\ntruncate_slug_length = ${SLUG_LENGTH}\n", environ={})
    with pytest.raises(ConfigError, match="environment variable SLUG_LENGTH is not set"):
        _ = config.truncate_slug_length


def test_set_main_option_is_checked_like_a_file_key(tmp_path: Path) -> None:
    config = load(tmp_path, "[amigrate]\ntruncate_slug_length = 30\n")
    with pytest.raises(ConfigError) as caught:
        config.set_main_option("scrpt_location", "x")
    assert str(caught.value) == (
        "unknown key 'scrpt_location' in [amigrate] (did you mean 'script_location'?)"
    )
    with pytest.raises(ConfigError, match="truncate_slug_length must be a whole number"):
        config.set_main_option("truncate_slug_length", "long")
    assert config.truncate_slug_length == 30
    config.set_main_option("sqlalchemy.url", "sqlite:///%(here)s/app.db")
    assert config.sqlalchemy_url == f"sqlite:///{tmp_path}/app.db"
    assert config.location("sqlalchemy.url") is None


def test_set_section_option_creates_sections(tmp_path: Path) -> None:
    config = Config()
    config.set_section_option("post_write_hooks", "hooks", "ruff")
    config.set_section_option("post_write_hooks", "ruff.type", "exec")
    config.set_section_option("post_write_hooks", "ruff.executable", "ruff")
    config.set_section_option("post_write_hooks", "black.type", "console_scripts")  # disabled
    assert config.post_write_hooks == [PostWriteHook("ruff", "exec", {"executable": "ruff"}, None)]
    assert config.sections() == ["amigrate", "post_write_hooks"]


# -- typed settings -----------------------------------------------------------------------


def test_defaults_of_a_minimal_config(tmp_path: Path) -> None:
    config = load(tmp_path, "[amigrate]\nscript_location = migrations\n")
    assert config.version_locations == [tmp_path / "migrations" / "versions"]
    assert config.file_template == "%(rev)s_%(slug)s"
    assert config.truncate_slug_length == 40
    assert config.timezone is None
    assert config.prepend_sys_path == []
    assert config.version_table == "alembic_version"
    assert config.version_table_schema is None
    assert config.sqlalchemy_url is None
    assert config.databases == []
    assert config.lock_timeout is None
    assert config.post_write_hooks == []
    assert config.revision_environment is False
    assert config.sourceless is False
    assert config.recursive_version_locations is False
    assert config.output_encoding == "utf-8"


def test_typed_values_when_set(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        [amigrate]
        script_location = /abs/migrations
        timezone = Europe/Paris
        version_table = schema_history
        version_table_schema = meta
        revision_environment = yes
        recursive_version_locations = on
        lock_timeout = 30
        output_encoding = latin-1
        """,
    )
    assert config.script_location == Path("/abs/migrations")
    assert config.timezone == "Europe/Paris"
    assert config.version_table == "schema_history"
    assert config.version_table_schema == "meta"
    assert config.revision_environment is True
    assert config.recursive_version_locations is True
    assert config.lock_timeout == 30.0
    assert config.output_encoding == "latin-1"


def test_missing_script_location(tmp_path: Path) -> None:
    config = load(tmp_path, "[amigrate]\nsqlalchemy.url = sqlite://\n")
    with pytest.raises(ConfigError) as caught:
        _ = config.script_location
    assert str(caught.value) == (
        f"no script_location in [amigrate] of {tmp_path / 'amigrate.ini'} (set it to the"
        " migrations folder, e.g. script_location = %(here)s/migrations)"
    )
    with pytest.raises(ConfigError, match="of the in-memory config"):
        _ = Config().script_location


# -- x arguments, attributes, discovery ---------------------------------------------------


def test_x_arguments_as_list_and_dict() -> None:
    config = Config(x_arguments=["tenant=acme", "dry_run", "note=a=b"])
    assert config.get_x_argument() == ["tenant=acme", "dry_run", "note=a=b"]
    assert config.get_x_argument(as_dictionary=True) == {
        "tenant": "acme",
        "dry_run": "",
        "note": "a=b",
    }


def test_attributes_are_the_callers_dict() -> None:
    shared: dict[str, object] = {"connection": object()}
    assert Config(attributes=shared).attributes is shared
    first, second = Config(), Config()
    first.attributes["x"] = 1
    assert second.attributes == {}


def test_discovery_order(tmp_path: Path) -> None:
    write(tmp_path, "alembic.ini", "[alembic]\nscript_location = from_alembic\n")
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert Config.discover(tmp_path, environ={}).path == tmp_path / "alembic.ini"
    write(tmp_path, "pyproject.toml", '[tool.amigrate]\nscript_location = "from_pyproject"\n')
    assert Config.discover(tmp_path, environ={}).path == tmp_path / "pyproject.toml"
    write(tmp_path, "amigrate.ini", "[amigrate]\nscript_location = from_amigrate\n")
    config = Config.discover(tmp_path, environ={}, section=None, x_arguments=["a=1"])
    assert config.script_location == tmp_path / "from_amigrate"
    assert config.get_x_argument(as_dictionary=True) == {"a": "1"}


def test_discovery_honours_environment_then_file_option(tmp_path: Path) -> None:
    write(tmp_path, "amigrate.ini", "[amigrate]\nscript_location = default\n")
    write(tmp_path, "conf/env.ini", "[amigrate]\nscript_location = from_env\n")
    write(tmp_path, "conf/cli.ini", "[amigrate]\nscript_location = from_cli\n")
    environ = {"AMIGRATE_CONFIG": "conf/env.ini"}
    from_env = Config.discover(tmp_path, environ=environ)
    assert from_env.script_location == tmp_path / "conf" / "from_env"
    from_cli = Config.discover(tmp_path, file="conf/cli.ini", environ=environ)
    assert from_cli.script_location == tmp_path / "conf" / "from_cli"


def test_discovery_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "alembic.ini", "[alembic]\nscript_location = migrations\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AMIGRATE_CONFIG", raising=False)
    assert Config.discover().script_location == tmp_path / "migrations"


def test_discovery_finds_nothing(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", "[tool.black]\nline-length = 100\n")
    with pytest.raises(ConfigError) as caught:
        Config.discover(tmp_path, environ={})
    assert str(caught.value) == (
        f"no configuration found in {tmp_path}: looked for amigrate.ini, pyproject.toml"
        " [tool.amigrate] and alembic.ini (run 'amigrate init migrations' or pass -c FILE)"
    )


def test_importing_config_stays_cheap() -> None:
    code = (
        "import sys, amigrate.config\n"
        "print(sorted({'tomllib', 'difflib', 'tempfile'} & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
