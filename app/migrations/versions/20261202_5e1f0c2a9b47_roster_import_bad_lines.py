"""roster imports: how many lines were bad (only the first 1,000 errors are kept)

Revision ID: 5e1f0c2a9b47
Revises: 97b08ddce7a3
Create Date: 2026-12-02 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e1f0c2a9b47"
down_revision: str | None = "97b08ddce7a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bad_lines", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("roster_import", schema=None) as batch_op:
        batch_op.drop_column("bad_lines")
