"""The raw layer of the config: an INI reader that remembers lines, and value interpolation.

configparser forgets where a value came from, and amigrate's configuration errors point at
``path:line``. This reader accepts the part of configparser's syntax that alembic.ini files
use and gives the same values for it:

- ``[section]`` headers (text after the closing ``]`` is ignored, as configparser does);
  ``key = value`` and ``key: value`` (split at the first ``=`` or ``:``); keys are
  lower-cased, values stripped;
- a line indented deeper than its key continues the value (parts joined with ``"\\n"``;
  blank lines between parts are kept, trailing ones dropped);
- full-line comments starting with ``#`` or ``;`` (also indented), and blank lines.

Unlike configparser it keeps values raw: interpolation happens when a value is read
(``amigrate.config``). A key given twice in one section, a section given twice, a key before
any section, a key holding white space (a forgotten ``=``: ``sqlalchemy.url postgresql://``
splits at the ``:``) and a line that is none of the above are ``ConfigError`` at ``path:line``.

``Interpolation`` expands a raw value when it is read (see its docstring for the syntax).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from amigrate.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

_SECTION = re.compile(r"\[(?P<name>.+)\]")  # used with match(): configparser's rule
_OPTION = re.compile(r"(?P<key>[^=:]+?)\s*[=:]\s*(?P<value>.*)")
_SPACE = re.compile(r"\s")
_TOKEN = re.compile(
    r"%%|%\((?P<ref>[^)]+)\)s|\$\$"
    r"|\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<fallback>[^}]*))?\}"
    r"|(?P<bad>%|\$\{)"
)
_PERCENT_TOKEN = re.compile(r"%%|%\((?P<ref>[^)]+)\)s|(?P<bad>%)")
# The words a value may use (Alembic's, and a few more).
SEPARATORS = {"os": os.pathsep, "space": " ", "comma": ",", "colon": ":", "semicolon": ";"}
SEPARATORS |= {"newline": "\n", ":": ":", ";": ";", ",": ","}
BOOLEANS = {"true": True, "yes": True, "on": True, "1": True}
BOOLEANS |= {"false": False, "no": False, "off": False, "0": False}


class Option:
    """One raw setting: its text as written, where it was written, and a TOML list's items.

    ``path`` is None for a setting of the config file itself; it names the other file a
    merged setting came from (the pyproject.toml next to an alembic.ini).
    """

    __slots__ = ("items", "line", "path", "raw")

    def __init__(
        self,
        raw: str,
        line: int | None = None,
        items: tuple[str, ...] | None = None,
        path: str | None = None,
    ) -> None:
        self.raw = raw
        self.line = line
        self.items = items
        self.path = path

    def __repr__(self) -> str:
        return f"Option({self.raw!r}, line={self.line})"


class UnsetVariableError(ConfigError):
    """A value needs an environment variable that is not set.

    Users see it as the ConfigError it is. It has a class of its own so that the checks made
    when a file is loaded can skip values that only the environment of a later run completes.
    """


class Interpolation:
    """Expands raw values of one section when they are read.

    ``%%`` is ``%``; ``%(key)s`` the expanded value of another key (``lookup``), and
    ``%(here)s`` the config file's folder unless a key of that name exists; ``$$`` is ``$``;
    ``${NAME}`` an environment variable and ``${NAME:-fallback}`` one with a fallback used
    when it is unset or empty (the fallback is expanded too, but cannot hold a ``}``). Any
    other ``%`` is an error, as in configparser; any other ``$`` is kept, so passwords
    holding one still work. ``label`` names the section in messages, e.g. ``[amigrate]``.

    With ``environ=None`` (files written for Alembic) only the ``%`` forms are expanded and
    every ``$`` is kept as written, as Alembic keeps it.
    """

    __slots__ = ("environ", "here", "label", "lookup", "where")

    def __init__(
        self,
        lookup: Callable[[str], Option | None],
        where: Callable[[Option], str | None],
        here: str,
        environ: Mapping[str, str] | None,
        label: str,
    ) -> None:
        self.lookup = lookup
        self.where = where
        self.here = here
        self.environ = environ
        self.label = label

    def expand(self, key: str, raw: str, location: str | None, chain: tuple[str, ...] = ()) -> str:
        """``raw`` (the text of ``key``, written at ``location``) with references replaced."""
        dollars = self.environ is not None
        if "%" not in raw and ("$" not in raw or not dollars):
            return raw
        chain = chain or (key,)
        token = _TOKEN if dollars else _PERCENT_TOKEN
        return token.sub(lambda match: self._replace(match, key, location, chain), raw)

    def _replace(
        self, match: re.Match[str], key: str, location: str | None, chain: tuple[str, ...]
    ) -> str:
        token = match[0]
        if token in ("%%", "$$"):
            return token[0]
        groups = match.groupdict()
        if groups["ref"] is not None:
            return self._reference(groups["ref"].lower(), location, chain)
        if groups.get("var") is not None:
            return self._variable(groups["var"], groups["fallback"], key, location, chain)
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
        assert self.environ is not None  # only _TOKEN matches variables
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
    # Only line ends end lines (not the form feeds etc. that str.splitlines() also splits at).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
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
        header = _SECTION.match(text)
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
        if _SPACE.search(key):
            raise ConfigError(
                f"key {key!r} contains a space", location=where, hint="is a '=' missing?"
            )
        section = self.sections[self._name]
        if key in section:
            raise ConfigError(
                f"key {key!r} given twice in [{self._name}]: "
                f"lines {section[key].line} and {number}",
                location=where,
            )
        self._option = section[key] = Option(option["value"], number)

    def _open_section(self, name: str, number: int, where: str) -> None:
        if name in self.sections and name != "DEFAULT":  # configparser merges DEFAULTs
            raise ConfigError(
                f"section [{name}] given twice: lines {self._section_lines[name]} and {number}",
                location=where,
            )
        self.sections.setdefault(name, {})
        self._section_lines[name] = number
        self._name = name
        self._option = None


def read_text(path: Path) -> str:
    """The text of a config file; ConfigError when it is missing, unreadable or not UTF-8."""
    if path.is_dir():
        raise ConfigError(f"config file '{path}' is a directory")
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError("the file is not UTF-8 text", location=f"{path}:{line}") from None


def positive_int(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number


def seconds(text: str) -> float:
    number = float(text)
    if not 0 <= number < float("inf"):
        raise ValueError(text)
    return number
