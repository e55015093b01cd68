<%doc>
  The template of new revision files for several databases: one upgrade_<name>() and one
  downgrade_<name>() per database listed in `databases`. Besides Alembic's variables
  (up_revision, down_revision, branch_labels, depends_on, create_date, message, imports)
  it sees `databases` and, per database, <name>_upgrades / <name>_downgrades.
</%doc>\
"""${message or "empty message" | docstring}

Revision ID: ${up_revision}
Revises:${" " + comma(down_revision) if down_revision else ""}
Create Date: ${create_date}
"""

from collections.abc import Sequence

import sqlalchemy as sa
% if imports:
${imports}
% endif

from amigrate import op

revision: str = ${py(up_revision)}
down_revision: str | Sequence[str] | None = ${py(down_revision)}
branch_labels: str | Sequence[str] | None = ${py(branch_labels)}
depends_on: str | Sequence[str] | None = ${py(depends_on)}
% for name in databases:


def upgrade_${name}() -> None:
    ${context.get(f"{name}_upgrades") or "pass"}


def downgrade_${name}() -> None:
    ${context.get(f"{name}_downgrades") or "pass"}
% endfor
