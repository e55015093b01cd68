<%doc>
  The template of new revision files. It sees Alembic's variables: up_revision, down_revision,
  branch_labels, depends_on, create_date, message, imports, upgrades, downgrades; and three
  helpers: py(value) writes a Python literal, comma(value) joins ids with commas,
  docstring(value) escapes text for a docstring.
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


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
