"""Reading a CTranslate2 ``model.bin`` (binary version 6) into numpy arrays."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from media.speech.errors import ModelFormatError

SUPPORTED_VERSION = 6
# Order of the DataType enum in CTranslate2's include/ctranslate2/types.h.
_DTYPES: tuple[str, ...] = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


@dataclass(frozen=True, slots=True)
class Ct2Model:
    spec: str
    revision: int
    variables: dict[str, npt.NDArray[np.generic]]
    aliases: dict[str, str]

    def get(self, name: str) -> npt.NDArray[np.generic]:
        """A variable by name, following aliases."""
        return self.variables[self.aliases.get(name, name)]

    def scalar(self, name: str) -> int:
        return int(self.get(name).reshape(()))


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)
        self._at = 0

    def unpack(self, fmt: str) -> tuple[int, ...]:
        size = struct.calcsize(fmt)
        if self._at + size > len(self._data):
            raise ModelFormatError("model.bin ends early")
        values = struct.unpack_from(fmt, self._data, self._at)
        self._at += size
        return values

    def string(self) -> str:
        (length,) = self.unpack("<H")
        raw = bytes(self.take(length))
        return raw.rstrip(b"\0").decode("utf-8")

    def take(self, size: int) -> memoryview:
        if self._at + size > len(self._data):
            raise ModelFormatError("model.bin ends early")
        chunk = self._data[self._at : self._at + size]
        self._at += size
        return chunk


def read_ct2_model(path: Path) -> Ct2Model:
    """Parse ``model.bin``: header, variables (name, shape, dtype, bytes), then aliases."""
    reader = _Reader(path.read_bytes())
    (version,) = reader.unpack("<I")
    if version != SUPPORTED_VERSION:
        raise ModelFormatError(f"{path}: binary version {version}, expected {SUPPORTED_VERSION}")
    spec = reader.string()
    (revision,) = reader.unpack("<I")
    (count,) = reader.unpack("<I")
    variables = dict(_read_variable(reader) for _ in range(count))
    (alias_count,) = reader.unpack("<I")
    aliases = {reader.string(): reader.string() for _ in range(alias_count)}
    return Ct2Model(spec, revision, variables, aliases)


def _read_variable(reader: _Reader) -> tuple[str, npt.NDArray[np.generic]]:
    name = reader.string()
    (rank,) = reader.unpack("<B")
    shape = reader.unpack(f"<{rank}I")
    (dtype_id,) = reader.unpack("<B")
    (size,) = reader.unpack("<I")
    if dtype_id >= len(_DTYPES):
        raise ModelFormatError(f"{name}: unknown dtype id {dtype_id}")
    return name, _to_array(reader.take(size), _DTYPES[dtype_id], shape)


def _to_array(raw: memoryview, dtype: str, shape: tuple[int, ...]) -> npt.NDArray[np.generic]:
    if dtype == "bfloat16":
        widened = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return widened.view(np.float32).reshape(shape)
    return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
