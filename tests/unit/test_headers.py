"""Revision headers are read without running the file, and bad headers say where they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from amigrate.errors import ScriptError
from amigrate.script.headers import read_revision


def write(tmp_path: Path, text: str, name: str = "rev.py") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_plain_assignments_and_docstring(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '"""add accounts\n\nRevision ID: b2\nRevises: a1\n"""\n'
        "import sqlalchemy as sa\n\n"
        'revision = "b2"\ndown_revision = "a1"\nbranch_labels = None\ndepends_on = None\n\n'
        "def upgrade():\n    pass\n",
    )
    rev = read_revision(path)
    assert rev.revision == "b2"
    assert rev.down_revisions == ("a1",)
    assert rev.branch_labels == frozenset()
    assert rev.depends_on == ()
    assert rev.doc == "add accounts"
    assert rev.longdoc.startswith("add accounts\n\nRevision ID: b2")
    assert rev.path == str(path)
    assert rev.lines == {"revision": 8, "down_revision": 9, "branch_labels": 10, "depends_on": 11}


def test_annotated_assignments_tuples_lists_and_sets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "from typing import Sequence\n"
        'revision: str = "m1"\n'
        'down_revision: tuple[str, ...] = ("a1", "b1")\n'
        'branch_labels: list[str] = ["core"]\n'
        'depends_on: set[str] = {"x9", "x1"}\n',
    )
    rev = read_revision(path)
    assert rev.down_revisions == ("a1", "b1")
    assert rev.branch_labels == frozenset({"core"})
    assert rev.depends_on == ("x1", "x9")
    assert rev.doc == ""


def test_header_after_the_functions_is_still_found(tmp_path: Path) -> None:
    path = write(tmp_path, 'def upgrade():\n    pass\n\nrevision = "late"\ndown_revision = None\n')
    assert read_revision(path).revision == "late"


def test_code_like_text_in_the_docstring_is_just_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '"""message\n\ndef looks_like_code():\n"""\nrevision = "r1"\ndown_revision = None\n'
        "def upgrade():\n    pass\n",
    )
    rev = read_revision(path)
    assert rev.revision == "r1"
    assert rev.doc == "message"


def test_multiline_docstring_first_paragraph_is_the_message(tmp_path: Path) -> None:
    path = write(
        tmp_path, '"""split\n   across lines\n\nmore"""\nrevision = "r"\ndown_revision = None\n'
    )
    assert read_revision(path).doc == "split across lines"


def test_non_literal_header_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'import os\nrevision = "r1"\ndown_revision = os.environ["X"]\n')
    with pytest.raises(ScriptError) as caught:
        read_revision(path)
    assert str(caught.value).startswith(f"{path}:3: down_revision must be a literal")


def test_wrong_literal_type_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'revision = "r1"\ndown_revision = 42\n')
    with pytest.raises(ScriptError, match=r"rev\.py:2: down_revision must be .* not int"):
        read_revision(path)


def test_tuple_with_a_number_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, 'revision = "r1"\ndown_revision = None\ndepends_on = ("a", 1)\n')
    with pytest.raises(ScriptError, match=r"rev\.py:3: depends_on must contain only strings"):
        read_revision(path)


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'revision = "r1"\n\ndef upgrade(:\n    pass\n')
    with pytest.raises(ScriptError) as caught:
        read_revision(path)
    assert str(caught.value).startswith(f"{path}:3: syntax error")


def test_file_without_revision_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "import os\n")
    with pytest.raises(ScriptError, match="not a revision file"):
        read_revision(path)


def test_empty_revision_id_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, 'revision = "  "\ndown_revision = None\n')
    with pytest.raises(ScriptError, match=r"rev\.py:1: revision must be a non-empty string"):
        read_revision(path)


def test_reading_does_not_execute_the_file(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    path = write(
        tmp_path,
        f'open({str(marker)!r}, "w").close()\nrevision = "r1"\ndown_revision = None\n',
    )
    assert read_revision(path).revision == "r1"
    assert not marker.exists()


def test_encoding_cookie_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "latin.py"
    path.write_bytes(
        b'# -*- coding: latin-1 -*-\n"""caf\xe9"""\nrevision = "r1"\ndown_revision = None\n'
    )
    assert read_revision(path).doc == "café"


def test_missing_down_revision_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, 'revision = "zz"\ndown_revison = "e6"\n')
    with pytest.raises(ScriptError) as caught:
        read_revision(path)
    assert str(caught.value) == (
        f"{path}: no 'down_revision = ...' line (a first revision says down_revision = None)"
    )


def test_empty_down_revision_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, 'revision = "zz"\ndown_revision = ""\n')
    with pytest.raises(ScriptError, match=r"rev\.py:2: down_revision is an empty string"):
        read_revision(path)


def test_header_assigned_twice_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, 'revision = "a"\ndown_revision = None\nrevision = "b"\n')
    with pytest.raises(
        ScriptError, match=r"rev\.py:3: revision is assigned twice \(lines 1 and 3\)"
    ):
        read_revision(path)


HEADER = 'revision = "b2"\ndown_revision = "a1"\n'


@pytest.mark.parametrize(
    "text",
    [
        f'"""plain"""\nimport sqlalchemy as sa\n\n{HEADER}\ndef upgrade():\n    pass\n',
        f'"""with code\n\ndef upgrade():\n    ...\n"""\n{HEADER}def upgrade():\n    pass\n',
        f'"""late labels"""\n{HEADER}\ndef upgrade():\n    pass\n\nbranch_labels = ("x",)\n',
        f'"""decorated"""\n{HEADER}@staticmethod\ndef f():\n    pass\nasync def g():\n    pass\n',
        f'"""a class"""\n{HEADER}class Thing:\n    revision = "not me"\ndepends_on = "c3"\n',
        f'"""nothing after"""\n{HEADER}',
    ],
)
def test_a_just_written_file_reads_the_same_from_its_header(tmp_path: Path, text: str) -> None:
    from amigrate.script.headers import read_written_revision

    path = write(tmp_path, text)
    assert read_written_revision(path, text) == read_revision(path)


def test_a_just_written_file_with_a_header_twice_is_still_refused(tmp_path: Path) -> None:
    from amigrate.script.headers import read_written_revision

    text = f'"""twice"""\n{HEADER}\ndef upgrade():\n    pass\n\nrevision = "c3"\n'
    with pytest.raises(ScriptError, match="assigned twice"):
        read_written_revision(write(tmp_path, text), text)
