"""Stored files: what any app host may serve later (label PDFs, uploaded rosters), kept in the
database so every host sees the same files; content in chunks, so large files stream."""

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy import Column as SAColumn
from sqlmodel import Field, SQLModel

from models.base import utcnow


class StoredFile(SQLModel, table=True):
    """One file: its name, type and size; its bytes are in stored_file_chunk."""

    __tablename__ = "stored_file"
    __table_args__ = (
        Index("ix_stored_file_kind_created_at", "kind", "created_at"),
        Index("ix_stored_file_expires_at", "expires_at"),
    )
    key: str = Field(primary_key=True, max_length=64)
    kind: str = Field(sa_type=String(20), description="labels, roster, …")
    name: str = Field(max_length=255, description="the file name a download carries")
    media_type: str = Field(max_length=100)
    size: int = Field(default=0, sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = Field(default=None, description="deleted by the purge after")


class StoredFileChunk(SQLModel, table=True):
    """A piece of a stored file's content (at most CHUNK_BYTES of app.core.files), in order."""

    __tablename__ = "stored_file_chunk"
    file_key: str = Field(
        sa_column=SAColumn(
            String(64),
            ForeignKey("stored_file.key", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    seq: int = Field(sa_column=SAColumn(Integer, primary_key=True, autoincrement=False))
    data: bytes = Field(sa_column=SAColumn(LargeBinary, nullable=False))
