"""Environment templates (generic, async, multidb): listing them and laying one out on disk."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from amigrate._util import atomic_write, fields_repr
from amigrate.errors import ConfigError, ScriptError
from amigrate.script.write import render_template

CONFIG_TEMPLATE = "amigrate.ini.mako"


@dataclass(repr=False, frozen=True, slots=True)
class TemplateInfo:
    __repr__ = fields_repr
    name: str
    description: str
    path: Path


def templates_root() -> Path:
    """Where the templates are: inside the installed package, or at the top of a checkout."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


def list_templates() -> list[TemplateInfo]:
    """Every template, sorted by name, with the first line of its README."""
    found = []
    for folder in sorted(templates_root().iterdir()):
        readme = folder / "README"
        if folder.is_dir() and readme.is_file():
            first = readme.read_text(encoding="utf-8").strip().splitlines()
            found.append(TemplateInfo(folder.name, first[0] if first else "", folder))
    return found


def template_named(name: str) -> TemplateInfo:
    known = list_templates()
    for template in known:
        if template.name == name:
            return template
    names = ", ".join(t.name for t in known)
    raise ConfigError(f"no template named {name!r}", hint=f"choose one of: {names}")


def lay_out(template: TemplateInfo, directory: Path, config_file: Path) -> list[Path]:
    """Create ``directory`` from ``template`` and write ``config_file`` pointing at it.

    Everything is checked and rendered before the first file is written: a refused init
    leaves the disk as it was.
    """
    if directory.exists() and not directory.is_dir():
        raise ScriptError(
            f"'{directory}' already exists and is a file",
            hint="init creates a new directory; choose another name",
        )
    if directory.exists() and any(directory.iterdir()):
        raise ScriptError(
            f"directory '{directory}' already exists and is not empty",
            hint="init only creates new environments; choose another directory",
        )
    if config_file.exists():
        raise ScriptError(
            f"config file '{config_file}' already exists",
            hint="init never overwrites it; pass -c OTHER.ini or move it away",
        )
    if config_file.suffix != ".ini":
        raise ConfigError(
            f"init writes an .ini file, not '{config_file.name}'",
            hint="to use pyproject.toml, copy the [amigrate] keys into [tool.amigrate]",
        )
    relative = Path(os.path.relpath(directory.resolve(), config_file.resolve().parent))
    files = {
        config_file: render_template(
            template.path / CONFIG_TEMPLATE, {"script_location": relative.as_posix()}
        )
    }
    for name in ("env.py", "script.py.mako", "README"):
        files[directory / name] = (template.path / name).read_text(encoding="utf-8")
    (directory / "versions").mkdir(parents=True, exist_ok=True)
    for path, text in files.items():
        atomic_write(path, text)
    return [*files, directory / "versions"]
