"""The file store every app host shares: files kept in the database, in chunks of CHUNK_BYTES.

Nothing the app serves later lives only on one host's disk: a label PDF rendered by a job on
one host is downloaded through any other, an uploaded roster is read by whichever process runs
its import. A file is written in one transaction (all its chunks or none) and read one chunk at
a time, so a 50 MB PDF streams with about one chunk in memory.

`FileStore(engine)` runs each operation in a short transaction of its own; `FileStore(session)`
works inside the caller's transaction (the caller commits), e.g. when a purge deletes files
together with the rows that name them.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import Connection, delete, func, insert, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.core.db import write_intent
from models.base import utcnow
from models.files import StoredFile, StoredFileChunk

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileInfo:
    """A stored file's description, without its content."""

    key: str
    kind: str
    name: str
    media_type: str
    size: int
    created_at: datetime
    expires_at: datetime | None


def _chunks(data: bytes | BinaryIO) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), CHUNK_BYTES):
            yield bytes(view[start : start + CHUNK_BYTES])
        return
    while piece := data.read(CHUNK_BYTES):
        yield piece


class FileStore:
    """Files in the database: put, get, open or stream, delete, and purge by age or expiry."""

    def __init__(self, bind: Engine | Session) -> None:
        self.bind = bind

    @contextmanager
    def _write(self) -> Iterator[Connection | Session]:
        if isinstance(self.bind, Session):
            yield self.bind
        else:
            with self.bind.begin() as conn:
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection | Session]:
        if isinstance(self.bind, Session):
            yield self.bind
            return
        # a read never queues for SQLite's write lock: a job that holds it while it reads its
        # input from the store (a roster import) would otherwise wait for itself
        token = write_intent.set(False)
        try:
            with self.bind.connect() as conn:
                yield conn
        finally:
            write_intent.reset(token)

    # ------------------------------------------------------------ writing

    def put(
        self,
        kind: str,
        name: str,
        data: bytes | BinaryIO,
        *,
        media_type: str,
        expires_at: datetime | None = None,
    ) -> str:
        """Store bytes or a readable binary file (read CHUNK_BYTES at a time); return its key."""
        key = secrets.token_urlsafe(24)
        with self._write() as conn:
            conn.execute(
                insert(StoredFile).values(
                    key=key,
                    kind=kind,
                    name=name[:255],
                    media_type=media_type,
                    size=0,
                    created_at=utcnow(),
                    expires_at=expires_at,
                )
            )
            size = 0
            for seq, piece in enumerate(_chunks(data)):
                conn.execute(insert(StoredFileChunk).values(file_key=key, seq=seq, data=piece))
                size += len(piece)
            conn.execute(
                StoredFile.__table__.update().where(StoredFile.key == key).values(size=size)
            )
        return key

    def delete(self, key: str) -> bool:
        """Delete a file; False when there was none with this key."""
        with self._write() as conn:
            conn.execute(delete(StoredFileChunk).where(StoredFileChunk.file_key == key))
            gone = conn.execute(delete(StoredFile).where(StoredFile.key == key))
        return bool(gone.rowcount)

    def delete_where(self, kind: str, older_than: datetime) -> int:
        """Delete the files of a kind stored before `older_than`; return how many."""
        return self._delete_keys(
            select(StoredFile.key).where(
                StoredFile.kind == kind, StoredFile.created_at < older_than
            )
        )

    def delete_expired(self, now: datetime | None = None) -> int:
        """Delete the files whose expiry has passed; return how many."""
        now = now or utcnow()
        return self._delete_keys(
            select(StoredFile.key).where(
                StoredFile.expires_at.is_not(None), StoredFile.expires_at <= now
            )
        )

    def _delete_keys(self, query) -> int:  # noqa: ANN001
        with self._write() as conn:
            keys = list(conn.execute(query).scalars())
            if keys:
                conn.execute(delete(StoredFileChunk).where(StoredFileChunk.file_key.in_(keys)))
                conn.execute(delete(StoredFile).where(StoredFile.key.in_(keys)))
        return len(keys)

    # ------------------------------------------------------------ reading

    def info(self, key: str | None) -> FileInfo | None:
        """A file's name, type and size, or None when there is none with this key."""
        if not key:
            return None
        with self._read() as conn:
            row = conn.execute(
                select(
                    StoredFile.key,
                    StoredFile.kind,
                    StoredFile.name,
                    StoredFile.media_type,
                    StoredFile.size,
                    StoredFile.created_at,
                    StoredFile.expires_at,
                ).where(StoredFile.key == key)
            ).first()
        return FileInfo(*row) if row is not None else None

    def count(self, kind: str | None = None) -> int:
        """How many files are stored (of one kind)."""
        query = select(func.count()).select_from(StoredFile)
        if kind is not None:
            query = query.where(StoredFile.kind == kind)
        with self._read() as conn:
            return int(conn.execute(query).scalar_one())

    def get(self, key: str | None) -> tuple[bytes, str, str] | None:
        """(content, media type, name) of a small file, or None; large ones: open or stream."""
        info = self.info(key)
        if info is None:
            return None
        return b"".join(self.stream(info.key)), info.media_type, info.name

    def chunk(self, key: str, seq: int) -> bytes | None:
        """One chunk of a file's content (None past its end or when it is gone)."""
        with self._read() as conn:
            return conn.execute(
                select(StoredFileChunk.data).where(
                    StoredFileChunk.file_key == key, StoredFileChunk.seq == seq
                )
            ).scalar_one_or_none()

    def stream(self, key: str) -> Iterator[bytes]:
        """A file's content, chunk by chunk, each read in a short transaction of its own (a
        slow download holds no connection). Stops early when the file is deleted meanwhile."""
        seq = 0
        while (piece := self.chunk(key, seq)) is not None:
            yield bytes(piece)
            seq += 1

    def open(self, key: str | None) -> BinaryIO | None:
        """A file as a seekable, buffered binary file that reads its chunks as needed."""
        info = self.info(key)
        if info is None:
            return None
        return io.BufferedReader(_ChunkReader(self, info), buffer_size=64 * 1024)


class _ChunkReader(io.RawIOBase):
    """Raw reads of a stored file at any position, holding at most one chunk."""

    def __init__(self, store: FileStore, info: FileInfo) -> None:
        self.store = store
        self.info = info
        self.pos = 0
        self._seq = -1
        self._data = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.info.size}[whence]
        self.pos = max(base + offset, 0)
        return self.pos

    def readinto(self, buffer) -> int:  # noqa: ANN001
        if self.pos >= self.info.size:
            return 0
        seq, start = divmod(self.pos, CHUNK_BYTES)
        if seq != self._seq:
            data = self.store.chunk(self.info.key, seq)
            if data is None:
                raise OSError(f"stored file {self.info.key} is gone")
            self._seq, self._data = seq, bytes(data)
        piece = self._data[start : start + len(buffer)]
        buffer[: len(piece)] = piece
        self.pos += len(piece)
        return len(piece)
