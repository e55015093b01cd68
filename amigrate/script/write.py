"""New revision files: name them, render script.py.mako in memory, check, write atomically, hook.

Nothing reaches the disk until the rendered text compiles, so a broken template never leaves
a half-written revision behind.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from amigrate._util import atomic_write, fields_repr
from amigrate.errors import ConfigError, ScriptError

if TYPE_CHECKING:
    from pathlib import Path

_SLUG_WORD = re.compile(r"\w+")


def comma(value: object) -> str:
    """Mako filter used by Alembic-style templates: ``${down_revision | comma,n}``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Iterable):
        return ", ".join(str(item) for item in value)
    return str(value)


def py(value: object) -> str:
    """A Python literal for a header value, with double quotes as formatters prefer."""
    if isinstance(value, str):
        import json

        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are Python's too
    if isinstance(value, tuple | list):
        items = ", ".join(py(item) for item in value)
        return f"({items},)" if len(value) == 1 else f"({items})"
    return repr(value)


def docstring(value: object) -> str:
    """Mako filter: text that reads back unchanged inside a triple-quoted docstring."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


@dataclass(repr=False, frozen=True, slots=True)
class ScriptSpec:
    """What a new revision file says, before it is rendered."""

    __repr__ = fields_repr

    rev_id: str
    down_revisions: tuple[str, ...]
    message: str | None
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    create_date: dt.datetime | None = None

    def template_variables(self) -> dict[str, Any]:
        """The names script.py.mako sees (Alembic's names, so its templates keep working)."""
        down: str | tuple[str, ...] | None
        down = None if not self.down_revisions else self.down_revisions
        if isinstance(down, tuple) and len(down) == 1:
            down = down[0]
        return {
            "up_revision": self.rev_id,
            "down_revision": down,
            "branch_labels": self.branch_labels or None,
            "depends_on": self.depends_on or None,
            "create_date": self.create_date,
            "message": self.message,
            "imports": "",
            "upgrades": "",
            "downgrades": "",
            "comma": comma,
            "py": py,
            "docstring": docstring,
        }


def create_date(timezone: str | None, *, location: str | None = None) -> dt.datetime:
    """Now, in the configured ``timezone`` (an IANA name) or local time."""
    if not timezone:
        return dt.datetime.now()
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown timezone {timezone!r}", location=location, hint="use an IANA name like UTC"
        ) from exc
    return dt.datetime.now(tz=zone)


def file_name(
    template: str, rev_id: str, message: str | None, when: dt.datetime, truncate: int
) -> str:
    """The file name ``file_template`` gives, with ``.py`` appended."""
    slug = "_".join(_SLUG_WORD.findall(message or "")).lower()
    if truncate and len(slug) > truncate:
        cut = slug[:truncate]
        slug = cut.rsplit("_", 1)[0] if "_" in cut else cut
    tokens = {
        "rev": rev_id,
        "slug": slug,
        "epoch": int(when.timestamp()),
        "year": when.year,
        "month": when.month,
        "day": when.day,
        "hour": when.hour,
        "minute": when.minute,
        "second": when.second,
    }
    try:
        name = template % tokens
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"bad file_template {template!r}: {exc}",
            hint="use tokens like %%(rev)s_%%(slug)s (rev, slug, epoch, year, month, day, ...)",
        ) from exc
    return name.rstrip("_") + ".py"


def render_template(template: Path, variables: Mapping[str, Any]) -> str:
    """Render a Mako template file in memory; errors name the template."""
    if not template.is_file():
        raise ScriptError(
            "revision template not found", location=str(template), hint="restore script.py.mako"
        )
    shipped = _render_shipped(template, variables)
    if shipped is not None:
        return shipped
    Template = _mako_template_class()
    try:
        compiled = Template(
            filename=str(template),
            imports=["from amigrate.script.write import comma, docstring, py"],
            strict_undefined=True,  # a misspelt variable is an error naming it, not "Undefined"
        )
        return str(compiled.render_unicode(**variables))
    except Exception as exc:
        raise ScriptError(
            f"cannot render template: {type(exc).__name__}: {exc}", location=str(template)
        ) from exc


def _render_shipped(template: Path, variables: Mapping[str, Any]) -> str | None:
    """The text, when ``template`` is a shipped one and renders without Mako; else None."""
    from amigrate.script.shipped import renderer_for

    try:
        renderer = renderer_for(template.read_bytes().decode("utf-8"))  # line ends kept
        return None if renderer is None else renderer(variables)
    except Exception:  # Mako renders it instead, and words the error if there is one
        return None


def _mako_template_class() -> Any:
    """Mako's ``Template``, imported without Pygments.

    ``mako.exceptions`` imports Pygments (when installed) only to colour its HTML error
    pages, which amigrate never renders: about 25 ms of every ``revision``. The import is
    refused for the moment Mako is first imported, so Mako takes its plain fallback; the
    refusal is lifted right after, and nobody else's import of Pygments is affected.
    """
    refuse = "mako.template" not in sys.modules and "mako.ext.pygmentplugin" not in sys.modules
    if refuse:
        sys.modules["mako.ext.pygmentplugin"] = None  # type: ignore[assignment]
    try:
        from mako.template import Template
    finally:
        if refuse:
            del sys.modules["mako.ext.pygmentplugin"]
    return Template


def write_script(path: Path, text: str) -> Path:
    """Check that ``text`` is valid Python, then write it atomically (never over a file)."""
    try:
        compile(text, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise ScriptError(
            f"the rendered revision is not valid Python (line {exc.lineno}): {exc.msg}",
            location=str(path),
            hint="check script.py.mako; nothing was written",
        ) from exc
    if path.exists():
        raise ScriptError("file already exists; not overwritten", location=str(path))
    atomic_write(path, text)
    return path
