"""stored files: PDFs and uploads in the database, in chunks, so every app host serves them

Revision ID: c9d0e1f2a3b4
Revises: b7c8d9e0f1a2
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c9d0e1f2a3b4"
down_revision: str | None = "b7c8d9e0f1a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stored_file",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_stored_file")),
    )
    op.create_index("ix_stored_file_kind_created_at", "stored_file", ["kind", "created_at"])
    op.create_index("ix_stored_file_expires_at", "stored_file", ["expires_at"])
    op.create_table(
        "stored_file_chunk",
        sa.Column("file_key", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_key"],
            ["stored_file.key"],
            name=op.f("fk_stored_file_chunk_file_key_stored_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_key", "seq", name=op.f("pk_stored_file_chunk")),
    )


def downgrade() -> None:
    op.drop_table("stored_file_chunk")
    op.drop_index("ix_stored_file_expires_at", table_name="stored_file")
    op.drop_index("ix_stored_file_kind_created_at", table_name="stored_file")
    op.drop_table("stored_file")
