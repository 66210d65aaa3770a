"""Static files for slow phone networks: versioned URLs cached for a year, gzip, no cookies.

`static_url('js/scanner.js')` (a Jinja global) gives `/static/~<hash>/js/scanner.js`: the hash is
the file's own content hash, or for an npm package (a vendor root) the hash of the whole package,
so that the relative imports inside its modules (`./zxing-exported.js`) resolve to versioned URLs
too. A versioned URL whose hash is the current one is answered `Cache-Control: public,
max-age=31536000, immutable`; any other (an old hash during a deploy, or no hash) `no-cache`, with
an ETag for a 304. Text, scripts and wasm are compressed once per content and kept on disk, in a
cache directory shared by the workers: brotli (quality 11) for the browsers that accept `br`
(Chromium and Firefox do even over plain http; the 1 MB decoder wasm is 357 KB in brotli, 456 KB
in gzip: 2 s less on a 400 kbit/s link), gzip for the others. Brotli at its best takes seconds on
a large file, so it is made in a background thread (by one worker, a lock file in the cache
directory), starting when the file is first looked up (its URL in a page); until it is ready the
gzip copy is sent. `Vary: Accept-Encoding` on every answer. The answer never passes through the
request context (no CSRF or language cookie: routes/http/context.py).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
import os
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import brotli
from jinja2 import pass_context
from starlette.datastructures import Headers
from starlette.responses import FileResponse, PlainTextResponse, Response

from routes.http.web import templates

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
VERSION_MARK = "~"  # /static/~<hash>/<path>: no file or folder of ours starts with it
# Worth compressing; images and fonts already are.
COMPRESSIBLE = {
    "application/javascript",
    "application/json",
    "application/wasm",
    "application/xml",
    "image/svg+xml",
    "text/css",
    "text/html",
    "text/javascript",
    "text/plain",
}
MIN_COMPRESS = 1024
BROTLI_QUALITY = 11
STALE_LOCK = 600  # seconds: a worker that died while compressing does not block the file forever
# One thread per process compresses to brotli, a file at a time, beside the event loop.
_BROTLI = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kitrun-brotli")
log = logging.getLogger(__name__)
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm"}


@dataclass(frozen=True)
class _File:
    path: Path
    digest: str  # content hash of this file
    version: str  # what its URL carries: its digest, or its package's
    media_type: str
    gz: Path | None  # the gzipped copy, when smaller


def _media_type(path: Path) -> str:
    return (
        TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _tree_digest(root: Path) -> str:
    """One hash for a whole package: its files' paths, sizes and modification times."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(root).as_posix()}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:16]


class Assets:
    """The ASGI app mounted at /static: app/static, and npm packages under their prefixes."""

    def __init__(self, directory: Path, vendor: dict[str, Path], cache_dir: Path | None = None):
        self.directory = directory  # (tests/security/test_access_matrix.py samples a file here)
        # longest prefix first: "vendor/zxing-wasm" before ""
        self.roots = sorted(
            [(prefix.strip("/"), root) for prefix, root in vendor.items()] + [("", directory)],
            key=lambda r: -len(r[0]),
        )
        self.vendor = {prefix.strip("/") for prefix in vendor}
        self.cache_dir = cache_dir or Path(tempfile.gettempdir()) / f"kitrun-static-{os.getuid()}"
        self._files: dict[str, tuple[tuple[int, int], _File]] = {}
        self._trees: dict[str, str] = {}
        self._br: dict[str, Path | None] = {}  # digest -> brotli copy (None: not smaller)
        self._br_jobs: dict[str, Future] = {}

    # ------------------------------------------------------------ files and versions

    def _locate(self, rel: str) -> tuple[str, Path] | None:
        parts = PurePosixPath(rel).parts
        if not parts or any(p in ("..", ".") or p.startswith(VERSION_MARK) for p in parts):
            return None
        for prefix, root in self.roots:
            if not prefix:
                return prefix, root / rel
            if rel.startswith(prefix + "/"):
                return prefix, root / rel[len(prefix) + 1 :]
        return None

    def file(self, rel: str) -> _File | None:
        """The file at `rel` (under /static), with its version and gzipped copy; None if none."""
        found = self._locate(rel)
        if found is None:
            return None
        prefix, path = found
        try:
            st = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        stamp = (st.st_mtime_ns, st.st_size)
        known = self._files.get(rel)
        if known is not None and known[0] == stamp:
            return known[1]
        digest = _digest(path)
        if prefix in self.vendor:
            if prefix not in self._trees:
                self._trees[prefix] = _tree_digest(dict(self.roots)[prefix])
            version = self._trees[prefix]
        else:
            version = digest
        media_type = _media_type(path)
        gz = self._gzip(path, digest) if self._compressible(media_type, st.st_size) else None
        entry = _File(path, digest, version, media_type, gz)
        self._files[rel] = (stamp, entry)
        if gz is not None:
            self.brotli(entry)  # started now, ready by the time a browser asks for it
        return entry

    @staticmethod
    def _compressible(media_type: str, size: int) -> bool:
        return size >= MIN_COMPRESS and (
            media_type in COMPRESSIBLE or media_type.startswith("text/")
        )

    def _gzip(self, path: Path, digest: str) -> Path | None:
        """The gzipped copy (made once per content, shared by workers); None when no smaller."""
        target = self.cache_dir / f"{digest}.gz"
        if target.exists():
            return target
        data = path.read_bytes()
        packed = gzip.compress(data, compresslevel=9, mtime=0)
        if len(packed) >= len(data):
            return None
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(packed)
        os.replace(tmp, target)  # atomic: another worker may be writing the same copy
        return target

    def brotli(self, f: _File, *, wait: bool = False) -> Path | None:
        """The brotli copy of a gzipped file, None while it is being made (in the background,
        started here) or when it is no smaller than the gzip; `wait` for it to be made."""
        if f.gz is None:
            return None
        if f.digest in self._br:
            return self._br[f.digest]
        done = self._brotli_made(f)
        if done is not False:
            return done
        job = self._br_jobs.get(f.digest)
        if job is None or job.done():
            job = self._br_jobs[f.digest] = _BROTLI.submit(self._make_brotli, f)
        if not wait:
            return None
        job.result()
        while (done := self._brotli_made(f)) is False:  # another worker holds the lock
            time.sleep(0.1)
            job = _BROTLI.submit(self._make_brotli, f)
            job.result()
        return done

    def _brotli_made(self, f: _File) -> Path | None | bool:
        """The copy on disk, None if not worth one, False if not made yet."""
        target = self.cache_dir / f"{f.digest}.br"
        if target.exists():
            self._br[f.digest] = target
            return target
        if (self.cache_dir / f"{f.digest}.br-none").exists():
            self._br[f.digest] = None
            return None
        return False

    def _make_brotli(self, f: _File) -> None:
        """Compress once across workers: the one that creates the lock file does it."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        lock = self.cache_dir / f"{f.digest}.br-lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            try:
                if time.time() - lock.stat().st_mtime > STALE_LOCK:
                    lock.unlink(missing_ok=True)  # its worker died: the next request retries
            except OSError:
                pass
            return
        os.close(fd)
        try:
            if self._brotli_made(f) is not False:
                return
            packed = brotli.compress(f.path.read_bytes(), quality=BROTLI_QUALITY)
            if f.gz is not None and len(packed) >= f.gz.stat().st_size:
                (self.cache_dir / f"{f.digest}.br-none").touch()
                return
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as out:
                out.write(packed)
            os.replace(tmp, self.cache_dir / f"{f.digest}.br")
        except Exception:
            log.exception("brotli compression of %s failed; gzip is sent", f.path)
        finally:
            lock.unlink(missing_ok=True)

    def url(self, rel: str) -> str:
        """The versioned URL of a static file (unversioned when the file is missing)."""
        rel = rel.lstrip("/")
        f = self.file(rel)
        return f"/static/{VERSION_MARK}{f.version}/{rel}" if f else f"/static/{rel}"

    # ------------------------------------------------------------ ASGI

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        response = self.respond(scope)
        await response(scope, receive, send)

    def respond(self, scope: dict[str, Any]) -> Response:
        path = scope["path"]
        root_path = scope.get("root_path", "")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :]
        rel = path.lstrip("/")
        version = None
        if rel.startswith(VERSION_MARK):
            version, _, rel = rel[1:].partition("/")
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET, HEAD"})
        f = self.file(rel)
        if f is None:
            return PlainTextResponse("Not Found", 404)
        headers = Headers(scope=scope)
        encoding, body = self._representation(f, headers.get("accept-encoding", ""))
        etag = f'"{f.digest}{SUFFIX[encoding]}"'
        out = {
            "Cache-Control": IMMUTABLE if version == f.version else REVALIDATE,
            "Vary": "Accept-Encoding",
            "ETag": etag,
        }
        if etag in [t.strip() for t in headers.get("if-none-match", "").split(",")]:
            return Response(status_code=304, headers=out)
        if encoding != "identity":
            out["Content-Encoding"] = encoding
        return FileResponse(body, media_type=f.media_type, headers=out)

    def _representation(self, f: _File, accept_encoding: str) -> tuple[str, Path]:
        """The coding to send (br, gzip or identity; the client's preference, br on a tie)
        and the file that holds it."""
        if f.gz is None:
            return "identity", f.path
        q = _accepted(accept_encoding)
        br_q, gz_q = q.get("br", q.get("*", 0.0)), q.get("gzip", q.get("*", 0.0))
        if br_q > 0 and br_q >= gz_q and (br := self.brotli(f)) is not None:
            return "br", br
        if gz_q > 0:
            return "gzip", f.gz
        return "identity", f.path


SUFFIX = {"br": "-br", "gzip": "-gz", "identity": ""}


def _accepted(accept_encoding: str) -> dict[str, float]:
    """The codings of an Accept-Encoding header and their quality (1 when not given)."""
    out: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip() == "q":
                q = _quality(value.strip())
        out[name] = q
    return out


def _quality(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


@pass_context
def static_url(ctx, rel: str) -> str:  # noqa: ANN001
    """Jinja global: the versioned (year-long cached) URL of a file under /static."""
    request = ctx.get("request")
    assets = getattr(request.app.state, "assets", None) if request is not None else None
    return assets.url(rel) if assets is not None else "/static/" + rel.lstrip("/")


templates.env.globals["static_url"] = static_url
