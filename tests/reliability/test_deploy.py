"""Deployment files: no secret in git or in an image, mount points owned by the service user, hardened units."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess

import pytest

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
SECRET = "deploy/newsbot.env"  # what docs/deploy.md tells the user to fill in with the bot token
UNITS = sorted(DEPLOY.glob("*.service"))


def _dockerignore_excludes(path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context (Docker's rules: last match wins, ``!`` re-includes)."""
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate, pattern = line.startswith("!"), line.lstrip("!")
        # `**/` matches zero or more folders; fnmatch's `*` already crosses `/`, so also try the pattern without it.
        candidates = {pattern, pattern.replace("**/", "")}
        hit = any(fnmatch.fnmatch(path, p) or path.startswith(p.rstrip("/") + "/") for p in candidates)
        if hit:
            excluded = not negate
    return excluded


def _copy_sources(dockerfile) -> list[str]:
    """The build-context sources of every COPY/ADD line (``--from`` copies between stages are not the context)."""
    sources = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]):
            continue
        sources += args[:-1]
    return sources


def test_the_filled_in_settings_file_is_ignored_by_git():
    # `git check-ignore` exits 0 when the path is ignored; the template must stay tracked.
    assert subprocess.run(["git", "check-ignore", "-q", SECRET], cwd=ROOT).returncode == 0
    assert subprocess.run(["git", "check-ignore", "-q", "deploy/newsbot.env.example"], cwd=ROOT).returncode == 1


@pytest.mark.parametrize("path", [SECRET, ".env", "deploy/other.env", ".git/config", "data/catalog.sqlite3"])
def test_secrets_and_local_state_stay_out_of_the_build_context(path):
    assert _dockerignore_excludes(path)


@pytest.mark.parametrize("path", ["bot/app.py", "deploy/llm_server.py", "seeds/meta-scale-ai-investissement.txt"])
def test_the_code_stays_in_the_build_context(path):
    assert not _dockerignore_excludes(path)


@pytest.mark.parametrize("dockerfile", sorted(DEPLOY.glob("Dockerfile*")), ids=lambda p: p.name)
def test_no_copy_line_takes_the_settings_file_into_an_image(dockerfile):
    sources = _copy_sources(dockerfile)
    assert sources, "no COPY line found"
    for source in sources:
        source = source.rstrip("/")
        assert source not in (".", "deploy") and not SECRET.startswith(source + "/"), source
        assert not fnmatch.fnmatch(SECRET, source), source


def test_the_chroma_mount_point_exists_in_the_image_owned_by_the_service_user():
    compose = (DEPLOY / "compose.yaml").read_text()
    mounts = set(re.findall(r"^\s*- chroma:(\S+)", compose, re.M))
    assert mounts == {"/chroma"}
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    made = re.search(r"mkdir -p ([^&]*)&& chown newsbot:newsbot ([^&\n]*)", dockerfile)
    assert made and "/chroma" in made.group(1).split() and "/chroma" in made.group(2).split()
    assert dockerfile.index("chown newsbot:newsbot") < dockerfile.index("USER newsbot")


REQUIRED = {
    "UMask": "0077",
    "CapabilityBoundingSet": "",
    "NoNewPrivileges": "yes",
    "SystemCallFilter": "@system-service",
    "ProtectSystem": "strict",
}


def _directives(unit) -> dict[str, list[str]]:
    """Each directive of a unit file and its values, continuation lines joined."""
    out: dict[str, list[str]] = {}
    for line in unit.read_text().replace("\\\n", " ").splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_units_are_hardened(unit):
    directives = _directives(unit)
    for key, value in REQUIRED.items():
        assert value in directives.get(key, []), f"{unit.name}: {key}={value}"
    assert re.fullmatch(r"\d+[KMG]", directives["MemoryMax"][0])
    assert set(directives["RestrictAddressFamilies"][0].split()) <= {"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"}
    # The LLM server needs the GPU's device nodes; the others see no devices at all.
    if unit.name == "newsbot-llm.service":
        assert directives["DevicePolicy"] == ["closed"]
    else:
        assert directives["PrivateDevices"] == ["yes"]


def test_the_llm_server_key_comes_from_a_file_not_the_command_line():
    directives = _directives(DEPLOY / "newsbot-llm.service")
    assert directives["EnvironmentFile"] == ["/etc/newsbot/llm.env"]
    assert "api_key" not in directives["ExecStart"][0]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_rates_the_units_ok(unit):
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", str(unit)], capture_output=True, text=True, timeout=60
    )
    score = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert score, result.stdout[-500:] + result.stderr[-500:]
    assert float(score.group(1)) <= 2.0  # 8.5 ("EXPOSED") before the hardening; docs/deploy.md records each score
