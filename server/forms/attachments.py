"""Attachment files under ``<data_dir>/attachments``: their type is told by their content (magic
bytes, with `filetype`), never by their name; only PDF, PNG and JPEG are kept, up to a size
limit; each is stored under a random name with its SHA-256, checked again when it is served."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import filetype
from starlette.datastructures import UploadFile

from server.forms.messages import FieldError, error

ALLOWED = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
SNIFF_BYTES = 8192
CHUNK = 256 * 1024


class AttachmentRefused(Exception):
    """An upload that is not kept; ``problem`` says why in the uploader's language."""

    def __init__(self, problem: FieldError) -> None:
        super().__init__(problem.key)
        self.problem = problem


class AttachmentDamaged(Exception):
    """A stored file whose bytes no longer match their checksum."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    sha256: str
    size: int
    content_type: str


def sniff(head: bytes) -> str | None:
    """The allowed type the content starts like, or None."""
    kind = filetype.guess(head)
    mime = None if kind is None else str(kind.mime)
    return mime if mime in ALLOWED else None


def safe_filename(name: str, content_type: str) -> str:
    """A plain file name to show and to offer on download, with the extension of its real type."""
    base = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    base = re.sub(r"[\x00-\x1f\x7f\"/;]", "", base).strip(" .") or "attachment"
    stem = base.rsplit(".", 1)[0][:100] or "attachment"
    return f"{stem}.{ALLOWED[content_type]}"


def content_disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


class AttachmentStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    @property
    def max_mb(self) -> int | float:
        mb = self.max_bytes / (1024 * 1024)
        return int(mb) if mb.is_integer() else round(mb, 1)

    async def save(self, upload: UploadFile) -> StoredFile:
        """Read the upload (at most the limit), check what it is, and keep it."""
        data = bytearray()
        while chunk := await upload.read(CHUNK):
            data += chunk
            if len(data) > self.max_bytes:
                raise AttachmentRefused(error("file_too_big", max_mb=self.max_mb))
        if not data:
            raise AttachmentRefused(error("file_empty"))
        content_type = sniff(bytes(data[:SNIFF_BYTES]))
        if content_type is None:
            raise AttachmentRefused(error("file_type"))
        return await asyncio.to_thread(self._write, bytes(data), content_type)

    def _write(self, data: bytes, content_type: str) -> StoredFile:
        name = uuid.uuid4().hex
        key = f"{name[:2]}/{name}"
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        with partial.open("wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
        return StoredFile(key, hashlib.sha256(data).hexdigest(), len(data), content_type)

    def path(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{32}", key):
            raise ValueError("not an attachment key")
        return self.root / key

    async def read(self, key: str, sha256: str) -> bytes:
        """The file's bytes, once they match their checksum."""
        data = await asyncio.to_thread(self.path(key).read_bytes)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise AttachmentDamaged(key)
        return data

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)
