"""dashboard indexes: claims per day, scans per day, runs per campaign

Revision ID: ad21f372cb27
Revises: a36897670982
Create Date: 2026-11-28 20:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ad21f372cb27"
down_revision: str | None = "a36897670982"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("claim", "ix_claim_campaign_submitted", ["campaign_id", "submitted_at"]),
    ("claim", "ix_claim_campaign_handed", ["campaign_id", "handed_over_at"]),
    ("scan", "ix_scan_received", ["received_at"]),
    ("run", "ix_run_campaign_status", ["campaign_id", "status"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
