"""Ops → Python source for revision files.

`render_python_code` writes the body of ``upgrade()``/``downgrade()`` from an op container;
`render_imports` the import lines the code needs beyond ``sa`` and ``op``. Each op is
written by the renderer registered for its class (``registry.py``; plugins add theirs with
`renderer`). Every rendered body is checked with ``compile()`` before it is returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from amigrate.autogenerate.render import ops as _ops  # noqa: F401  (registers renderers)
from amigrate.autogenerate.render import ops_autogen as _ops_autogen  # noqa: F401
from amigrate.autogenerate.render.code import WIDTH, format_expr
from amigrate.autogenerate.render.literals import string
from amigrate.autogenerate.render.registry import Renderer, Target, lookup, renderer
from amigrate.errors import ScriptError
from amigrate.operations.ops import ModifyTableOps, OpContainer

if TYPE_CHECKING:
    from amigrate.autogenerate.api import AutogenContext
    from amigrate.operations.ops_base import MigrateOperation


def render_python_code(container: OpContainer, ctx: AutogenContext, *, check: bool = True) -> str:
    """The body of upgrade()/downgrade(), not indented; "pass" when there is nothing to do.

    Import lines the code needs are added to ``ctx.imports``. ``check=False`` leaves out the
    compile check, for a caller that compiles the whole file anyway (and calls
    `check_compiles` only to explain a failure).
    """
    lines = _render_ops(container.ops, ctx)
    if not _has_code(lines):
        lines.append("pass")
    body = "\n".join(lines)
    if check:
        check_compiles(body)
    return body


def render_imports(ctx: AutogenContext) -> str:
    """The collected import lines, sorted, one per line."""
    return "\n".join(sorted(ctx.imports))


def _render_ops(operations: list[MigrateOperation], ctx: AutogenContext) -> list[str]:
    lines: list[str] = []
    for operation in operations:
        if isinstance(operation, ModifyTableOps) and ctx.opts.render_as_batch:
            lines += _batch_blocks(operation, ctx)
        elif isinstance(operation, OpContainer):
            lines += _render_ops(operation.ops, ctx)
        else:
            lines += _statements(operation, Target(ctx), indent=0)
    return lines


def _batch_blocks(container: ModifyTableOps, ctx: AutogenContext) -> list[str]:
    """``with op.batch_alter_table(...) as batch_op:`` blocks; ops batch mode cannot take
    are written between blocks, in their place."""
    lines: list[str] = []
    block: list[str] = []

    def close() -> None:
        if not block:
            return
        header = (
            f"with op.batch_alter_table({string(container.table_name)}, "
            f"schema={string(container.schema) if container.schema is not None else None})"
            " as batch_op:"
        )
        lines.append(header)
        lines.extend(block if _has_code(block) else [*block, "    pass"])
        block.clear()

    for operation in container.ops:
        if isinstance(operation, OpContainer):
            close()
            lines += _render_ops([operation], ctx)
        elif lookup(type(operation), batch=True) is not None:
            block.extend(_statements(operation, Target(ctx, batch=True), indent=4))
        else:
            close()
            lines += _statements(operation, Target(ctx), indent=0)
    close()
    return lines


def _statements(operation: MigrateOperation, target: Target, indent: int) -> list[str]:
    render = lookup(type(operation), batch=target.batch)
    if render is None:
        raise ScriptError(
            f"no renderer for {type(operation).__name__}: it cannot be written into a revision",
            hint="register one with amigrate.autogenerate.render.renderer",
        )
    pad = " " * indent
    lines: list[str] = []
    for statement in render(operation, target):
        if isinstance(statement, str):  # finished text: indent every line
            lines.extend(pad + line if line else line for line in statement.split("\n"))
        else:  # continuation lines come indented already
            lines.extend((pad + format_expr(statement, indent, WIDTH)).split("\n"))
    return lines


def _has_code(lines: list[str]) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in lines)


def check_compiles(body: str) -> None:
    """Raise ``ScriptError`` if ``body`` (rendered code) does not compile."""
    source = "def _body():\n" + "\n".join("    " + line for line in body.split("\n"))
    try:
        compile(source, "<rendered migration>", "exec")
    except SyntaxError as error:
        raise ScriptError(
            f"rendered migration code does not compile: {error.msg} (line {error.lineno})",
            hint="a render_item hook may have returned invalid code",
        ) from error


__all__ = [
    "Renderer",
    "Target",
    "check_compiles",
    "render_imports",
    "render_python_code",
    "renderer",
]
