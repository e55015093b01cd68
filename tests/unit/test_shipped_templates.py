"""The shipped revision templates render without Mako exactly as Mako renders them.

``script/shipped.py`` writes the text of generic, async and multidb's ``script.py.mako``
in plain Python; each case here renders the real template file both ways and requires the
same text, so a change to a template that the Python does not follow fails here.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amigrate.errors import ScriptError
from amigrate.script import write
from amigrate.script.shipped import renderer_for
from amigrate.script.templates import templates_root

TEMPLATES = ("generic", "async", "multidb")
MAKO_IMPORTS = ["from amigrate.script.write import comma, docstring, py"]


def template_path(name: str) -> Path:
    return templates_root() / name / "script.py.mako"


def with_mako(path: Path, variables: dict[str, Any]) -> str:
    from mako.template import Template

    template = Template(filename=str(path), imports=MAKO_IMPORTS, strict_undefined=True)
    return str(template.render_unicode(**variables))


def variables(
    message: str | None = "add things",
    parents: tuple[str, ...] = ("a1",),
    labels: tuple[str, ...] = (),
    depends_on: tuple[str, ...] = (),
    databases: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    spec = write.ScriptSpec(
        "f00dcafe1234", parents, message, labels, depends_on, dt.datetime(2026, 11, 21, 9, 30)
    )
    values = spec.template_variables()
    values["databases"] = databases if databases is not None else []
    values.update(extra)
    return values


CASES = [
    variables(),
    variables(message=None, parents=()),
    variables(message=""),
    variables(message='quotes """ and \\ backslashes, naïve\nsecond line'),
    variables(parents=("a1", "b2"), labels=("main",), depends_on=("c3", "d4")),
    variables(labels=("one", "two"), depends_on=("x9",)),
    variables(
        imports="from sqlalchemy.dialects import postgresql\nimport myapp.types",
        upgrades='op.add_column("t", sa.Column("c", sa.Integer()))\n    op.drop_index("ix")',
        downgrades='op.drop_column("t", "c")',
    ),
    variables(databases=["engine1"], engine1_upgrades="op.execute('x')"),
    variables(
        databases=["engine1", "engine2", "engine3"],
        imports="import x",
        engine1_upgrades="op.f()",
        engine1_downgrades="op.g()",
        engine3_downgrades="op.h()",
    ),
]


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("number", range(len(CASES)))
def test_each_shipped_template_renders_as_mako_does(name: str, number: int) -> None:
    path = template_path(name)
    values = CASES[number]

    rendered = write.render_template(path, values)

    assert renderer_for(path.read_text(encoding="utf-8")) is not None  # the Python wrote it
    assert rendered == with_mako(path, values)
    compile(rendered, "rendered.py", "exec")


@settings(max_examples=60, deadline=None)
@given(
    message=st.one_of(st.none(), st.text(max_size=40)),
    parents=st.lists(st.from_regex(r"[0-9a-f]{4,12}", fullmatch=True), max_size=3),
    labels=st.lists(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), max_size=2),
    databases=st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), max_size=3),
    body=st.sampled_from(["", "op.execute('select 1')", 'op.drop_table("t")\n    pass']),
)
def test_any_header_and_databases_render_as_mako_does(
    message: str | None, parents: list[str], labels: list[str], databases: list[str], body: str
) -> None:
    extra = {f"{db}_{kind}": body for db, kind in itertools.product(databases, ("upgrades",))}
    values = variables(
        message, tuple(parents), tuple(labels), databases=databases, upgrades=body, **extra
    )
    for name in TEMPLATES:
        path = template_path(name)
        assert write.render_template(path, values) == with_mako(path, values)


def test_an_edited_template_is_rendered_by_mako(tmp_path: Path) -> None:
    path = tmp_path / "script.py.mako"
    path.write_text(template_path("generic").read_text() + "# ${up_revision} ends here\n")

    assert renderer_for(path.read_text()) is None
    assert write.render_template(path, variables()).endswith("# f00dcafe1234 ends here\n")


def test_a_shipped_template_missing_a_variable_gets_mako_s_error() -> None:
    values = variables()
    del values["databases"]

    with pytest.raises(ScriptError, match="cannot render template: NameError: 'databases'"):
        write.render_template(template_path("multidb"), values)


def test_a_shipped_template_with_windows_line_ends_is_rendered_by_mako(tmp_path: Path) -> None:
    path = tmp_path / "script.py.mako"
    path.write_bytes(template_path("generic").read_bytes().replace(b"\n", b"\r\n"))

    rendered = write.render_template(path, variables())

    assert rendered == with_mako(path, variables())
