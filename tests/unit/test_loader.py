"""Scripts load as isolated modules, and a failing one says where it failed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from amigrate.errors import ScriptError
from amigrate.script.loader import load_module, module_name_for


def test_same_file_name_in_two_folders_gives_two_modules(tmp_path: Path) -> None:
    paths = []
    for folder, value in (("one", 1), ("two", 2)):
        path = tmp_path / folder / "abc_init.py"
        path.parent.mkdir()
        path.write_text(f"VALUE = {value}\n")
        paths.append(path)
    first, second = (load_module(path) for path in paths)
    assert (first.VALUE, second.VALUE) == (1, 2)
    assert first.__name__ != second.__name__
    assert sys.modules[first.__name__] is first
    assert str(tmp_path) not in sys.path


def test_module_name_is_stable_and_importable(tmp_path: Path) -> None:
    path = tmp_path / "1f2e-odd name.py"
    assert module_name_for(path) == module_name_for(path)
    assert module_name_for(path).split(".")[-1].isidentifier()


def test_dataclasses_work_inside_loaded_scripts(tmp_path: Path) -> None:
    path = tmp_path / "env.py"
    path.write_text(
        "from __future__ import annotations\nimport dataclasses\n\n"
        "@dataclasses.dataclass\nclass Settings:\n    name: str\n\nS = Settings('x')\n"
    )
    assert load_module(path).S.name == "x"


def test_exception_at_import_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "env.py"
    path.write_text("import os\n\nx = 1\nraise RuntimeError('models failed to import')\n")
    with pytest.raises(ScriptError) as caught:
        load_module(path)
    assert str(caught.value) == (f"{path}:4: failed to load: RuntimeError: models failed to import")
    assert not [name for name in sys.modules if name == module_name_for(path)]


def test_failure_inside_an_imported_module_points_at_the_import(tmp_path: Path) -> None:
    (tmp_path / "helper_mod_xyz.py").write_text("raise ValueError('boom')\n")
    path = tmp_path / "env.py"
    path.write_text(f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport helper_mod_xyz\n")
    try:
        failed = (
            r"helper_mod_xyz\.py:1: failed to load: ValueError: boom \(imported at .*env\.py:3\)"
        )
        with pytest.raises(ScriptError, match=failed):
            load_module(path)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("helper_mod_xyz", None)


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "env.py"
    path.write_text("x = 1\ndef broken(:\n")
    with pytest.raises(ScriptError, match=r"env\.py:2: syntax error"):
        load_module(path)
