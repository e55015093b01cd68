"""The raw layer of the config: file readers that remember lines, and value interpolation.

configparser forgets where a value came from, and amigrate's configuration errors point at
``path:line``. This reader accepts the part of configparser's syntax that alembic.ini files
use and gives the same values for it:

- ``[section]`` headers; ``key = value`` and ``key: value`` (split at the first ``=`` or
  ``:``); keys are lower-cased, values stripped;
- a line indented deeper than its key continues the value (parts joined with ``"\\n"``;
  blank lines between parts are kept, trailing ones dropped);
- full-line comments starting with ``#`` or ``;`` (also indented), and blank lines.

Unlike configparser it keeps values raw: interpolation happens when a value is read
(``amigrate.config``). A key given twice in one section, a section given twice, a key before
any section and a line that is none of the above are ``ConfigError`` at ``path:line``.

``parse_pyproject`` turns ``[tool.amigrate]`` into the same shape with ``tomllib`` (imported
only then); a key's line is found by scanning the text, which is good enough for messages.

``Interpolation`` expands a raw value when it is read (see its docstring for the syntax).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from amigrate.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

_SECTION = re.compile(r"\[(?P<name>[^\]]+)\]")
_OPTION = re.compile(r"(?P<key>[^=:]+?)\s*[=:]\s*(?P<value>.*)")
# Compiled on first use (re caches them): only pyproject.toml needs them.
_TOML_HEADER = r"\s*\[\[?(?P<name>[^\]]+)\]\]?\s*(?:#.*)?$"
_TOML_KEY = (
    r"\s*(?P<name>(?:[\w-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[\w-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)
_TOML_PART = r"\"([^\"]*)\"|'([^']*)'|([^.\s]+)"
_NAME_LISTS = ("databases", "hooks")
_TOKEN = re.compile(
    r"%%|%\((?P<ref>[^)]+)\)s|\$\$"
    r"|\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<fallback>[^}]*))?\}"
    r"|(?P<bad>%|\$\{)"
)


class Option:
    """One raw setting: its text as written, where it was written, and a TOML list's items."""

    __slots__ = ("items", "line", "raw")

    def __init__(
        self, raw: str, line: int | None = None, items: tuple[str, ...] | None = None
    ) -> None:
        self.raw = raw
        self.line = line
        self.items = items

    def __repr__(self) -> str:
        return f"Option({self.raw!r}, line={self.line})"


class UnsetVariableError(ConfigError):
    """A value needs an environment variable that is not set."""


class Interpolation:
    """Expands raw values of one section when they are read.

    ``%%`` is ``%``; ``%(key)s`` the expanded value of another key (``lookup``), and
    ``%(here)s`` the config file's folder unless a key of that name exists; ``$$`` is ``$``;
    ``${NAME}`` an environment variable and ``${NAME:-fallback}`` one with a fallback used
    when it is unset or empty (the fallback is expanded too, but cannot hold a ``}``). Any
    other ``%`` is an error, as in configparser; any other ``$`` is kept, so passwords
    holding one still work. ``label`` names the section in messages, e.g. ``[amigrate]``.
    """

    __slots__ = ("environ", "here", "label", "lookup", "where")

    def __init__(
        self,
        lookup: Callable[[str], Option | None],
        where: Callable[[Option], str | None],
        here: str,
        environ: Mapping[str, str],
        label: str,
    ) -> None:
        self.lookup = lookup
        self.where = where
        self.here = here
        self.environ = environ
        self.label = label

    def expand(self, key: str, raw: str, location: str | None, chain: tuple[str, ...] = ()) -> str:
        """``raw`` (the text of ``key``, written at ``location``) with references replaced."""
        if "%" not in raw and "$" not in raw:
            return raw
        chain = chain or (key,)
        return _TOKEN.sub(lambda match: self._replace(match, key, location, chain), raw)

    def _replace(
        self, match: re.Match[str], key: str, location: str | None, chain: tuple[str, ...]
    ) -> str:
        token = match[0]
        if token in ("%%", "$$"):
            return token[0]
        if match["ref"] is not None:
            return self._reference(match["ref"].lower(), location, chain)
        if match["var"] is not None:
            return self._variable(match["var"], match["fallback"], key, location, chain)
        if token == "%":
            raise ConfigError(
                f"'%' must be followed by '%' or '(name)s' in {key} of {self.label}",
                location=location,
                hint="write %% for a literal %",
            )
        raise ConfigError(
            f"bad environment variable reference in {key} of {self.label}",
            location=location,
            hint="write ${NAME} or ${NAME:-fallback}, or $$ for a literal $",
        )

    def _reference(self, name: str, location: str | None, chain: tuple[str, ...]) -> str:
        option = self.lookup(name)
        if option is None:
            if name == "here":
                return self.here
            raise ConfigError(
                f"%({name})s in {chain[-1]} names no key of {self.label}",
                location=location,
                hint="write %% for a literal %",
            )
        if name in chain:
            loop = " -> ".join((*chain, name))
            raise ConfigError(
                f"keys of {self.label} refer to each other: {loop}", location=location
            )
        return self.expand(name, option.raw, self.where(option), (*chain, name))

    def _variable(
        self,
        name: str,
        fallback: str | None,
        key: str,
        location: str | None,
        chain: tuple[str, ...],
    ) -> str:
        value = self.environ.get(name)
        if value is not None and (value or fallback is None):
            return value
        if fallback is not None:
            return self.expand(key, fallback, location, chain)
        raise UnsetVariableError(
            f"environment variable {name} is not set (used by {key} in {self.label})",
            location=location,
        )


def parse_ini(text: str, path: str) -> dict[str, dict[str, Option]]:
    """Sections of ``text`` in file order (``DEFAULT`` included), each mapping key to Option."""
    reader = _Reader(path)
    for number, line in enumerate(text.splitlines(), start=1):
        reader.feed(number, line)
    return reader.sections


class _Reader:
    """Line-by-line state: the open section, the open key (for continuations), blank lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sections: dict[str, dict[str, Option]] = {}
        self._section_lines: dict[str, int] = {}
        self._name = ""
        self._option: Option | None = None
        self._indent = 0
        self._blank_lines = 0

    def feed(self, number: int, line: str) -> None:
        text = line.strip()
        if not text or text[0] in "#;":
            # A blank line inside a multi-line value is part of it if the value goes on.
            self._blank_lines += not text
            return
        indent = len(line) - len(line.lstrip())
        if self._option is not None and indent > self._indent:
            self._option.raw += "\n" * (self._blank_lines + 1) + text
        else:
            self._indent = indent
            self._start(number, text)
        self._blank_lines = 0

    def _start(self, number: int, text: str) -> None:
        where = f"{self.path}:{number}"
        header = _SECTION.fullmatch(text)
        if header:
            self._open_section(header["name"], number, where)
            return
        option = _OPTION.fullmatch(text)
        if option is None:
            raise ConfigError(
                f"expected '[section]', 'key = value' or a comment, found {text!r}",
                location=where,
            )
        if not self._name:
            raise ConfigError(f"{text!r} comes before any [section] header", location=where)
        key = option["key"].lower()
        section = self.sections[self._name]
        if key in section:
            raise ConfigError(
                f"key {key!r} given twice in [{self._name}]: "
                f"lines {section[key].line} and {number}",
                location=where,
            )
        self._option = section[key] = Option(option["value"], number)

    def _open_section(self, name: str, number: int, where: str) -> None:
        if name in self.sections:
            raise ConfigError(
                f"section [{name}] given twice: lines {self._section_lines[name]} and {number}",
                location=where,
            )
        self.sections[name] = {}
        self._section_lines[name] = number
        self._name = name
        self._option = None


def parse_pyproject(text: str, path: str) -> dict[str, dict[str, Option]] | None:
    """[tool.amigrate] as sections, or None if the file has no such table.

    The table itself is section ``amigrate``; each sub-table is a section of that name, except
    ``sqlalchemy`` (what ``sqlalchemy.url = ...`` makes), kept as ``sqlalchemy.*`` keys.
    Nested tables become dotted keys (``ruff.type``); lists of strings keep their items.
    """
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = re.search(r" \(at line (\d+), column \d+\)$", message)
        location = f"{path}:{found[1]}" if found else path
        message = message[: found.start()] if found else message
        raise ConfigError(f"invalid TOML: {message}", location=location) from None
    tool = data.get("tool")
    table = tool.get("amigrate") if isinstance(tool, dict) else None
    if not isinstance(table, dict):
        return None
    lines = _toml_lines(text)
    sections: dict[str, dict[str, Option]] = {"amigrate": {}}
    for key, value in table.items():
        if isinstance(value, dict) and key != "sqlalchemy":
            sections[key] = _toml_options(f"tool.amigrate.{key}", value, lines, path)
        else:
            options = _toml_options("tool.amigrate", {key: value}, lines, path)
            sections["amigrate"].update(options)
    return sections


def _toml_options(
    table: str, values: dict[str, Any], lines: dict[str, int], path: str
) -> dict[str, Option]:
    options = {}
    for key, value in _flatten(values):
        dotted = f"{table}.{key}".lower()
        line = next((lines[name] for name in _prefixes(dotted, table) if name in lines), None)
        options[key] = _toml_option(key, value, f"{path}:{line}" if line else path)
        options[key].line = line
    return options


def _toml_option(key: str, value: object, location: str) -> Option:
    if isinstance(value, bool):
        return Option("true" if value else "false")
    if isinstance(value, str | int | float):
        return Option(str(value))
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        joiner = ", " if key.rpartition(".")[2] in _NAME_LISTS else "\n"
        return Option(joiner.join(value), items=tuple(value))
    hint = None
    if key == "post_write_hooks":
        hint = 'write a [tool.amigrate.post_write_hooks] table: hooks = ["ruff"], ruff.type = ...'
    raise ConfigError(
        f"{key} must be a string, number, boolean or list of strings",
        location=location,
        hint=hint,
    )


def _toml_lines(text: str) -> dict[str, int]:
    """Dotted key → first line where it is assigned or opened as a table (a plain scan)."""
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if key := re.match(_TOML_KEY, line):
            lines.setdefault(".".join(filter(None, (table, _toml_name(key["name"])))), number)
        elif header := re.match(_TOML_HEADER, line):
            table = _toml_name(header["name"])
            lines.setdefault(table, number)
    return lines


def _toml_name(text: str) -> str:
    return ".".join("".join(part) for part in re.findall(_TOML_PART, text)).lower()


def _prefixes(dotted: str, stop: str) -> Iterator[str]:
    """``dotted`` and its shorter prefixes down to ``stop``: an inline table's own line."""
    while len(dotted) > len(stop):
        yield dotted
        dotted = dotted.rpartition(".")[0]


def _flatten(table: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in table.items():
        name = f"{prefix}{key}".lower()
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        else:
            yield name, value
