"""GGUF header checks: a model file that is missing, empty, truncated or not GGUF is refused with a message naming it."""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

from retrieval.errors import ModelError

# GGUF layout: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md (little-endian).
_U32, _U64 = struct.Struct("<I"), struct.Struct("<Q")
_SCALAR_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9
# ggml type id -> (elements per block, bytes per block), from gguf-py's GGML_QUANT_SIZES.
_BLOCKS = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
           9: (32, 36), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
           14: (256, 210), 15: (256, 292), 20: (32, 18), 23: (256, 136), 24: (1, 1), 25: (1, 2),
           26: (1, 4), 27: (1, 8), 28: (1, 8), 30: (1, 2)}
_MIN_SIZE = 4 + 4 + 8 + 8  # magic, version, tensor count, metadata count


def check_gguf(path: Path) -> None:
    """Raise ModelError naming the path unless it is a complete GGUF v2/v3 file."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    size = path.stat().st_size
    if size == 0:
        raise ModelError(f"model file {path} is empty; delete it and download it again")
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 4 or head[:4] != b"GGUF":
            raise ModelError(f"{path} is not a GGUF model file")
        if size < _MIN_SIZE:
            raise ModelError(f"model file {path} is truncated ({size} bytes)")
        version = _U32.unpack_from(head, 4)[0]
        if version not in (2, 3):
            raise ModelError(f"{path} is not a GGUF file llama.cpp can load (format version {version})")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            try:
                needed = _gguf_required_size(buf)
            except (struct.error, ValueError) as exc:
                raise ModelError(f"model file {path} is truncated or corrupt ({exc})") from exc
    if size < needed:
        raise ModelError(f"model file {path} is truncated ({size} of at least {needed} bytes); "
                         "delete it and download it again")


def _gguf_required_size(buf: mmap.mmap) -> int:
    """Parse a GGUF header and return the smallest file size that holds all its tensors."""
    pos = 8
    n_tensors, n_kv = _U64.unpack_from(buf, pos)[0], _U64.unpack_from(buf, pos + 8)[0]
    pos += 16
    if n_tensors > 1 << 20 or n_kv > 1 << 20:
        raise ValueError(f"implausible header: {n_tensors} tensors, {n_kv} metadata keys")
    alignment = 32

    def string(pos: int) -> tuple[bytes, int]:
        n = _U64.unpack_from(buf, pos)[0]
        if pos + 8 + n > len(buf):
            raise ValueError("a string runs past the end of the file")
        return buf[pos + 8:pos + 8 + n], pos + 8 + n

    def skip(vtype: int, pos: int) -> int:
        if vtype in _SCALAR_SIZES:
            return pos + _SCALAR_SIZES[vtype]
        if vtype == _STRING:
            return pos + 8 + _U64.unpack_from(buf, pos)[0]
        if vtype != _ARRAY:
            raise ValueError(f"unknown metadata type {vtype}")
        item, count = _U32.unpack_from(buf, pos)[0], _U64.unpack_from(buf, pos + 4)[0]
        pos += 12
        if item in _SCALAR_SIZES:
            return pos + count * _SCALAR_SIZES[item]
        for _ in range(count):
            pos = skip(item, pos)
            if pos > len(buf):
                raise ValueError("metadata runs past the end of the file")
        return pos

    for _ in range(n_kv):
        key, pos = string(pos)
        vtype = _U32.unpack_from(buf, pos)[0]
        if key == b"general.alignment" and vtype == 4:
            alignment = _U32.unpack_from(buf, pos + 4)[0] or 32
        pos = skip(vtype, pos + 4)
    end = 0
    for _ in range(n_tensors):
        _, pos = string(pos)
        n_dims = _U32.unpack_from(buf, pos)[0]
        if n_dims > 8:
            raise ValueError(f"a tensor with {n_dims} dimensions")
        dims = struct.unpack_from(f"<{n_dims}Q", buf, pos + 4)
        ggml_type, offset = struct.unpack_from("<IQ", buf, pos + 4 + 8 * n_dims)
        pos += 4 + 8 * n_dims + 12
        elements = 1
        for d in dims:
            elements *= d
        block, nbytes = _BLOCKS.get(ggml_type, (1, 0))  # unknown type: count its offset only
        end = max(end, offset + elements // block * nbytes)
    data_start = -(-pos // alignment) * alignment
    return data_start + end
