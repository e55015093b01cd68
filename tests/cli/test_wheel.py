"""The built wheel works on its own: installed into a fresh venv, ``amigrate`` runs.

Slow (a wheel build and a venv with the dependencies from the package index): ``-m "not slow"``
skips it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def clean_environ() -> dict[str, str]:
    """The environment without traces of the dev venv (so nothing leaks into the new one)."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def run(args: Sequence[str | Path], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited with {result.returncode}\n"
        f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", outdir], REPO_ROOT, timeout=300)
    (built,) = outdir.glob("amigrate-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh venv with the wheel (and its dependencies) installed; its bin directory."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    bindir = home / "bin"
    pip = [bindir / "python", "-m", "pip", "--disable-pip-version-check", "--no-input"]
    run([*pip, "install", "--quiet", wheel], home, timeout=300)
    return bindir


def test_wheel_contains_the_templates(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())

    assert "amigrate/templates/generic/env.py" in names
    assert "amigrate/py.typed" in names


def test_installed_package_is_the_wheel_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    result = run(
        [installed / "python", "-c", "import amigrate; print(amigrate.__file__)"], tmp_path, 60
    )

    assert str(REPO_ROOT) not in result.stdout
    assert "site-packages" in result.stdout


def test_list_templates(installed: Path, tmp_path: Path) -> None:
    result = run([installed / "amigrate", "list_templates"], tmp_path, timeout=60)

    for name in ("generic", "async", "multidb"):
        assert name in result.stdout


def test_init_in_an_empty_directory(installed: Path, tmp_path: Path) -> None:
    run([installed / "amigrate", "init", "migrations"], tmp_path, timeout=60)

    assert (tmp_path / "migrations" / "env.py").is_file()
    assert (tmp_path / "migrations" / "script.py.mako").is_file()
    assert (tmp_path / "migrations" / "versions").is_dir()
    assert "script_location" in (tmp_path / "amigrate.ini").read_text()
