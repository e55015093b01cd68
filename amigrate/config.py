"""Config: amigrate's settings, from amigrate.ini, pyproject.toml or an unmodified alembic.ini.

Every source becomes the same model: named sections of raw options, each remembering its
``path:line``. Values are expanded when read, not when loaded, so an environment variable
that is not set only matters to the command that reads that key. Keys are checked when the
file is loaded: a misspelt key is an error pointing at its line, not a silent default.

Value syntax (README, "Configuration"): ``%(here)s`` is the config file's directory,
``%(key)s`` another key of the same section or of [DEFAULT], ``%%`` a literal ``%``;
``${NAME}`` an environment variable, ``${NAME:-fallback}`` one with a fallback for unset or
empty, ``$$`` a literal ``$`` (a ``$`` before anything else is kept as is).

A file written for Alembic (named alembic.ini, or with [alembic] and no [amigrate]) is read
as Alembic reads it: only the ``%`` forms, every ``$`` kept. The settings Alembic ≥ 1.16 keeps
in [tool.alembic] of the pyproject.toml next to it join its main section.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from amigrate import _ini, _pyproject
from amigrate._ini import Interpolation, Option, UnsetVariableError
from amigrate._util import fields_repr
from amigrate.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

__all__ = ["Config", "PostWriteHook"]

_T = TypeVar("_T")
# fmt: off
_MAIN_KEYS = frozenset({
    "script_location", "version_locations", "path_separator", "version_path_separator",
    "file_template", "truncate_slug_length", "timezone", "prepend_sys_path", "version_table",
    "version_table_schema", "sqlalchemy.url", "revision_environment", "sourceless",
    "output_encoding", "recursive_version_locations", "databases", "lock_timeout",
    "tenant_url_file", "tenant_schema_file",
})
# fmt: on
_DATABASE_KEYS = frozenset({"version_table", "version_table_schema"})
_LIST_KEYS = frozenset({"version_locations", "prepend_sys_path", "databases", "hooks"})
_HOOK_OPTIONS = ("type", "entrypoint", "executable", "module", "options", "cwd")
_HOOKS = "post_write_hooks"
_CHECKED_ON_LOAD = frozenset({"truncate_slug_length", "lock_timeout", "revision_environment"})
_CHECKED_ON_LOAD |= {"sourceless", "recursive_version_locations"}
_WORDS = re.compile(r"[\s,]+")
_WORDS_AND_COLONS = re.compile(r"[\s,:]+")


@dataclass(repr=False, frozen=True)
class PostWriteHook:
    """One hook from [post_write_hooks]: ``options`` holds its other settings (entrypoint, ...)."""

    __repr__ = fields_repr

    name: str
    type: str
    options: dict[str, str]
    location: str | None


class Config:
    """The settings of one run, plus the objects (``attributes``) handed to env.py."""

    def __init__(
        self,
        file: str | os.PathLike[str] | None = None,
        *,
        section: str | None = None,
        x_arguments: Sequence[str] = (),
        attributes: dict[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.path: Path | None = None if file is None else Path(file)
        self.config_file_name: str | None = None if file is None else os.fspath(file)
        self.attributes: dict[str, Any] = {} if attributes is None else attributes
        self.x_arguments: tuple[str, ...] = tuple(x_arguments)
        self.cmd_opts: Any = None
        """The parsed command line when run by the CLI (``config.cmd_opts.autogenerate``, as
        in Alembic's recipes); None from code."""
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self._defaults: dict[str, Option] = {}
        self._sections: dict[str, dict[str, Option]] = {}
        self._toml = self.path is not None and self.path.suffix == ".toml"
        self._alembic_style = False
        if self.path is None:
            self.here = Path.cwd()
            self.config_ini_section: str = section or "amigrate"
            self._sections[self.config_ini_section] = {}
            return
        self.here = Path(os.path.abspath(self.path)).parent
        text = _ini.read_text(self.path)
        if self._toml:
            self.config_ini_section = section or "amigrate"
            self._sections = _pyproject.load(text, str(self.path), self.config_ini_section)
        else:
            self.config_ini_section = self._load_ini(text, section)
        self._validate()

    @classmethod
    def discover(
        cls,
        cwd: Path | None = None,
        *,
        file: str | os.PathLike[str] | None = None,
        section: str | None = None,
        x_arguments: Sequence[str] = (),
        attributes: dict[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> Config:
        """The config for a command run in ``cwd``: ``-c FILE``, $AMIGRATE_CONFIG, or a search."""
        env = os.environ if environ is None else environ
        base = Path.cwd() if cwd is None else Path(cwd)
        chosen = file if file is not None else (env.get("AMIGRATE_CONFIG") or None)
        if chosen is not None:
            path = Path(chosen) if cwd is None else base / chosen
        else:
            path = _search(base)
        return cls(
            path, section=section, x_arguments=x_arguments, attributes=attributes, environ=env
        )

    def __repr__(self) -> str:
        return f"<Config {self.config_file_name or 'in memory'} [{self.config_ini_section}]>"

    # -- reading and writing options ------------------------------------------------------

    def get_main_option(self, name: str, default: str | None = None) -> str | None:
        """A key of the main section, expanded; ``default`` when it is not set."""
        return self.get_section_option(self.config_ini_section, name, default)

    def set_main_option(self, name: str, value: str) -> None:
        """Set a key of the main section; ``value`` is raw (``%%`` for a literal ``%``)."""
        self.set_section_option(self.config_ini_section, name, value)

    def get_section(
        self, name: str, default: dict[str, str] | None = None
    ) -> dict[str, str] | None:
        """Every key of section ``name`` (with [DEFAULT]'s), expanded; ``default`` if absent."""
        if name not in self._sections:
            return default
        options = {**self._defaults, **self._sections[name]}
        return {key: self._expand(name, key, option) for key, option in options.items()}

    def get_section_option(self, section: str, name: str, default: str | None = None) -> str | None:
        """One key of ``section`` (or [DEFAULT]), expanded; ``default`` when not set."""
        key = name.lower()
        option = self._find(section, key)
        if option is None:
            return str(self.here) if key == "here" and section in self._sections else default
        return self._expand(section, key, option)

    def set_section_option(self, section: str, name: str, value: str) -> None:
        """Set a key, checked like a key read from a file; creates the section if needed."""
        key = name.lower()
        self._check_key(section, key, None)
        options = self._sections.setdefault(section, {})
        previous = options.get(key)
        options[key] = Option(value)
        try:
            self._check_value(section, key)
        except ConfigError:
            if previous is None:
                del options[key]
            else:
                options[key] = previous
            raise

    def has_section(self, name: str) -> bool:
        return name in self._sections

    def sections(self) -> list[str]:
        return list(self._sections)

    def location(self, key: str, section: str | None = None) -> str | None:
        """``path:line`` where ``key`` was written, for messages; None if not from a file."""
        option = self._find(section or self.config_ini_section, key.lower())
        return None if option is None else self._where(option)

    @overload
    def get_x_argument(self, as_dictionary: Literal[False] = False) -> list[str]: ...
    @overload
    def get_x_argument(self, as_dictionary: Literal[True]) -> dict[str, str]: ...
    def get_x_argument(self, as_dictionary: bool = False) -> list[str] | dict[str, str]:
        """The ``-x`` values: as given, or as a dict (``key=value``; a bare ``key`` maps to "")."""
        if not as_dictionary:
            return list(self.x_arguments)
        pairs = (argument.partition("=") for argument in self.x_arguments)
        return {key: value for key, _, value in pairs}

    # -- typed settings -------------------------------------------------------------------

    @property
    def script_location(self) -> Path:
        """The migrations folder; relative paths are relative to the config file."""
        value = self.get_main_option("script_location")
        if not value:
            source = self.path or "the in-memory config"
            raise ConfigError(
                f"no script_location in [{self._display(self.config_ini_section)}] of {source}",
                hint="set it to the migrations folder, e.g. script_location = %(here)s/migrations",
            )
        return self._resolve(value)

    @property
    def version_locations(self) -> list[Path]:
        """Folders holding revision files, each once; ``script_location/versions`` unless set.

        That default may be missing (git keeps no empty folder) and then holds no revisions;
        a folder named in version_locations must exist, or a typo would hide its revisions.
        """
        paths = self._path_list("version_locations", version=True)
        if not paths:
            return [self.script_location / "versions"]
        found: dict[Path, Path] = {}
        for value in paths:
            path = self._resolve(value)
            if not path.is_dir():
                exists = path.exists()
                raise ConfigError(
                    f"version location '{path}' " + ("is a file" if exists else "does not exist"),
                    location=self.location("version_locations"),
                    hint="list folders only" if exists else "create it, or fix version_locations",
                )
            found.setdefault(path.resolve(), path)
        return list(found.values())

    @property
    def prepend_sys_path(self) -> list[str]:
        """Entries for ``sys.path``; relative ones resolved against the config file's folder."""
        return [str(self._resolve(path)) for path in self._path_list("prepend_sys_path")]

    @property
    def file_template(self) -> str:
        return self.get_main_option("file_template") or "%(rev)s_%(slug)s"

    @property
    def truncate_slug_length(self) -> int:
        value = self._typed("truncate_slug_length", _ini.positive_int, "a whole number above 0")
        return 40 if value is None else value

    @property
    def timezone(self) -> str | None:
        return self.get_main_option("timezone") or None

    @property
    def version_table(self) -> str:
        return self.get_main_option("version_table") or "alembic_version"

    @property
    def version_table_schema(self) -> str | None:
        return self.get_main_option("version_table_schema") or None

    @property
    def sqlalchemy_url(self) -> str | None:
        return self.get_main_option("sqlalchemy.url") or None

    @property
    def databases(self) -> list[str]:
        """Names of the database sections of a many-database setup."""
        return self._words(self.config_ini_section, "databases")

    @property
    def lock_timeout(self) -> float | None:
        """Seconds to wait for the migration lock; None means the command's default."""
        return self._typed("lock_timeout", _ini.seconds, "a number of seconds")

    @property
    def revision_environment(self) -> bool:
        return self._flag("revision_environment")

    @property
    def sourceless(self) -> bool:
        return self._flag("sourceless")

    @property
    def recursive_version_locations(self) -> bool:
        return self._flag("recursive_version_locations")

    @property
    def output_encoding(self) -> str:
        return self.get_main_option("output_encoding") or "utf-8"

    @property
    def post_write_hooks(self) -> list[PostWriteHook]:
        """The hooks listed in [post_write_hooks] ``hooks``, in that order."""
        hooks = []
        for name in self._words(_HOOKS, "hooks"):
            options: dict[str, str] = {}
            for option in _HOOK_OPTIONS:
                value = self.get_section_option(_HOOKS, f"{name}.{option}")
                if value is not None:
                    options[option] = value
            kind = options.pop("type", "")
            if not kind:
                listed = self._find(_HOOKS, "hooks")
                raise ConfigError(
                    f"hook {name!r} has no {name}.type in [{self._display(_HOOKS, listed)}]",
                    location=self.location("hooks", _HOOKS),
                    hint="for example console_scripts, exec or module",
                )
            where = self.location(f"{name}.type", _HOOKS)
            hooks.append(PostWriteHook(name, kind, options, where))
        return hooks

    # -- loading --------------------------------------------------------------------------

    def _load_ini(self, text: str, section: str | None) -> str:
        assert self.path is not None
        sections = _ini.parse_ini(text, str(self.path))
        self._defaults = sections.pop("DEFAULT", {})
        self._sections = sections
        named_alembic = self.path.name == "alembic.ini"
        self._alembic_style = named_alembic or (
            "alembic" in sections and "amigrate" not in sections
        )
        if section is None:
            expected, other = ("alembic", "amigrate") if named_alembic else ("amigrate", "alembic")
            section = other if expected not in sections and other in sections else expected
        if self._alembic_style and (section in sections or section == "alembic"):
            # Alembic ≥ 1.16 keeps settings in pyproject.toml; [alembic] may then be left out.
            _pyproject.merge_tool_alembic(sections, self._defaults, section, self.path.parent)
        if section not in sections:
            found = ", ".join(f"[{name}]" for name in sections) or "no sections"
            raise ConfigError(f"no [{section}] section in {self.path}; it has {found}")
        return section

    def _validate(self) -> None:
        databases = self._lenient(lambda: self.databases) or []
        for section in (self.config_ini_section, _HOOKS, *databases):
            for key, option in self._sections.get(section, {}).items():
                self._check_key(section, key, option)
                if option.items is not None and key not in _LIST_KEYS:
                    raise ConfigError(
                        f"{key} takes one value, not a list", location=self._where(option)
                    )
                self._check_value(section, key)

    def _check_key(self, section: str, key: str, option: Option | None) -> None:
        hint = self._unknown_key_hint(section, key)
        if hint is not None:
            raise ConfigError(
                f"unknown key {key!r} in [{self._display(section, option)}]",
                location=None if option is None else self._where(option),
                hint=hint,
            )

    def _unknown_key_hint(self, section: str, key: str) -> str | None:
        """None when ``key`` belongs in ``section``, else the hint for the error."""
        if section == self.config_ini_section:
            if key in _MAIN_KEYS or key.startswith("sqlalchemy."):
                return None
            own = next(name for name in ("myapp", "settings") if name != section)
            return _did_you_mean(key, _MAIN_KEYS) or (
                f"custom settings belong in a section of their own, such as [{self._display(own)}]"
            )
        if section == _HOOKS:
            names = self._lenient(lambda: self._words(_HOOKS, "hooks"))
            hook, _, option = key.rpartition(".")
            if key == "hooks" or names is None or (hook and option in _HOOK_OPTIONS):
                return None  # settings of a hook left out of `hooks` are a disabled hook
            valid = [f"{hook}.{option}" for hook in names for option in _HOOK_OPTIONS]
            return _did_you_mean(key, valid) or (
                f"a hook's settings are NAME.{', NAME.'.join(_HOOK_OPTIONS)}"
            )
        if section in (self._lenient(lambda: self.databases) or ()):
            if key in _DATABASE_KEYS or key.startswith("sqlalchemy."):
                return None
            return _did_you_mean(key, _DATABASE_KEYS) or (
                "a database section takes sqlalchemy.* keys, version_table and version_table_schema"
            )
        return None

    def _check_value(self, section: str, key: str) -> None:
        if section != self.config_ini_section:
            return
        if key in ("path_separator", "version_path_separator"):
            self._lenient(lambda: self._separator(key))
        elif key in _CHECKED_ON_LOAD:
            self._lenient(lambda: getattr(self, key))  # the property of that name

    # -- helpers --------------------------------------------------------------------------

    def _find(self, section: str, key: str) -> Option | None:
        options = self._sections.get(section)
        if options is None:
            return None
        return options.get(key) or self._defaults.get(key)

    def _where(self, option: Option) -> str | None:
        path = option.path or self.path
        if path is None or option.line is None:
            return None
        return f"{path}:{option.line}"

    def _display(self, section: str, option: Option | None = None) -> str:
        """``section`` as its file writes it: [alembic], [tool.amigrate.shop], ..."""
        if option is not None and option.path is not None:  # merged from [tool.alembic]
            main = section == self.config_ini_section
            return "tool.alembic" if main else f"tool.alembic.{section}"
        return _pyproject.table_name(section) if self._toml else section

    def _expand(self, section: str, key: str, option: Option) -> str:
        return self._interpolation(section, option).expand(key, option.raw, self._where(option))

    def _interpolation(self, section: str, option: Option | None = None) -> Interpolation:
        return Interpolation(
            lookup=lambda name: self._find(section, name),
            where=self._where,
            here=str(self.here),
            environ=None if self._alembic_style else self._environ,
            label=f"[{self._display(section, option)}]",
        )

    def _resolve(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.here / path

    def _items(self, section: str, key: str) -> list[str] | None:
        """A list-valued key: a TOML list item by item, else the expanded text; None if unset."""
        option = self._find(section, key)
        if option is None:
            return None
        if option.items is None:
            return [self._expand(section, key, option)]
        where, interpolation = self._where(option), self._interpolation(section, option)
        return [interpolation.expand(key, item, where) for item in option.items]

    def _words(self, section: str, key: str) -> list[str]:
        values = self._items(section, key) or []
        return [word for value in values for word in _WORDS.split(value) if word]

    def _path_list(self, key: str, *, version: bool = False) -> list[str]:
        option = self._find(self.config_ini_section, key)
        values = self._items(self.config_ini_section, key)
        if option is None or values is None:
            return []
        if option.items is None:
            separator = self._separator("path_separator")
            if separator is None and version:
                separator = self._separator("version_path_separator")
            if separator is not None:
                values = values[0].split(separator)
            elif self._alembic_style and not version:
                values = _WORDS_AND_COLONS.split(values[0])  # Alembic's legacy rule
            else:
                values = _WORDS.split(values[0])
        return [value.strip() for value in values if value.strip()]

    def _separator(self, key: str) -> str | None:
        value = self.get_main_option(key)
        if value is None:
            return None
        separator = _ini.SEPARATORS.get(value.strip().lower())
        if separator is None:
            raise ConfigError(
                f"{key} must be one of os, space, comma, colon, semicolon or newline, "
                f"not {value!r}",
                location=self.location(key),
            )
        return separator

    def _typed(self, key: str, convert: Callable[[str], _T], expected: str) -> _T | None:
        value = self.get_main_option(key)
        if value is None or not value.strip():
            return None
        try:
            return convert(value.strip())
        except (ValueError, KeyError):
            raise ConfigError(
                f"{key} must be {expected}, not {value!r}", location=self.location(key)
            ) from None

    def _flag(self, key: str) -> bool:
        return bool(self._typed(key, lambda text: _ini.BOOLEANS[text.lower()], "true or false"))

    @staticmethod
    def _lenient(read: Callable[[], _T]) -> _T | None:
        """``read()``, or None when it needs an environment variable that is not set."""
        try:
            return read()
        except UnsetVariableError:
            return None


def _did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    from amigrate._util import closest  # difflib only on the error path

    match = closest(name, candidates)
    return f"did you mean {match!r}?" if match else None


def _search(base: Path) -> Path:
    for name in ("amigrate.ini", "pyproject.toml", "alembic.ini"):
        path = base / name
        if path.is_file() and (name != "pyproject.toml" or _pyproject.has_amigrate_table(path)):
            return path
    raise ConfigError(
        f"no configuration found in {base}: "
        "looked for amigrate.ini, pyproject.toml [tool.amigrate] and alembic.ini",
        hint="run 'amigrate init migrations' or pass -c FILE",
    )
