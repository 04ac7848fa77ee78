"""The locks (requirements.txt, requirements-test.txt) are what pyproject.toml asks for, so what CI tests is what
Heroku deploys. Offline and fast: the locks are read as text and compared with pyproject.toml; nothing resolves.

A failure here means: run ``bash .ci/lock`` and commit the locks with the pyproject.toml change."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
ROOT_VIA = "aasr-bot (pyproject.toml)"
LOCKS = {"requirements.txt": (), "requirements-test.txt": ("test",)}
"""Each lock and the extras of pyproject.toml it covers."""
FIX = "run `bash .ci/lock` and commit requirements.txt and requirements-test.txt with pyproject.toml"


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    marker: str
    hashes: tuple[str, ...]
    via: tuple[str, ...]


def read_lock(text: str) -> dict[str, Pin]:
    """``name==version [; marker]`` entries with their ``--hash`` lines and uv's ``# via`` annotations."""
    pins: dict[str, Pin] = {}
    for entry in re.split(r"\n(?=[^\s#])", "\n" + text):
        head = entry.strip().splitlines()[0] if entry.strip() else ""
        if not head or head.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+?)\s*(?:;\s*(.*?))?\s*\\?", head)
        if match is None:
            raise ValueError(f"not a pinned requirement: {head!r} (every entry must be name==version)")
        via_lines = (line.strip().lstrip("#").strip() for line in entry.partition("# via")[2].splitlines())
        name = canonicalize_name(match[1])
        pins[name] = Pin(
            name=name,
            version=match[2],
            marker=match[3] or "",
            hashes=tuple(re.findall(r"--hash=(sha256:[0-9a-f]{64})", entry)),
            via=tuple(v for v in via_lines if v and v != "-c requirements.txt"),
        )
    return pins


def asked_for(project: dict[str, Any], extras: tuple[str, ...]) -> list[Requirement]:
    lines = list(project["dependencies"])
    for extra in extras:
        lines += project["optional-dependencies"][extra]
    return [Requirement(line) for line in lines]


def stale(project: dict[str, Any], locks: dict[str, str]) -> list[str]:
    """Every way the locks disagree with pyproject.toml's ``[project]`` table (empty: up to date)."""
    problems: list[str] = []
    pinned = {name: read_lock(text) for name, text in locks.items()}
    for name, extras in LOCKS.items():
        pins = pinned[name]
        wanted = asked_for(project, extras)
        direct = {canonicalize_name(r.name) for r in wanted}
        for req in wanted:
            pin = pins.get(canonicalize_name(req.name))
            if pin is None:
                problems.append(f"{name}: {req} is in pyproject.toml but not pinned")
            elif not req.specifier.contains(Version(pin.version), prereleases=True):
                problems.append(f"{name}: {pin.name}=={pin.version} is outside pyproject.toml's {req}")
        for pin in pins.values():
            if ROOT_VIA in pin.via and pin.name not in direct:
                problems.append(
                    f"{name}: {pin.name} is pinned for pyproject.toml, which no longer asks for it"
                )
            if not pin.hashes:
                problems.append(f"{name}: {pin.name} has no --hash (pip checks every file it installs)")
        needed = set(direct)
        grew = True
        while grew:  # what the direct dependencies pull in, transitively, by uv's "# via" records
            before = len(needed)
            needed |= {p.name for p in pins.values() if any(canonicalize_name(v) in needed for v in p.via)}
            grew = len(needed) > before
        problems += [f"{name}: {n} is pinned but nothing needs it" for n in sorted(set(pins) - needed)]
    for pin in pinned["requirements.txt"].values():
        other = pinned["requirements-test.txt"].get(pin.name)
        if other is None or (other.version, other.marker, set(other.hashes)) != (
            pin.version,
            pin.marker,
            set(pin.hashes),
        ):
            problems.append(
                f"{pin.name}: CI (requirements-test.txt) would not test the deployed {pin.version}"
            )
    return problems


def real_project() -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return table


def real_locks() -> dict[str, str]:
    return {name: (ROOT / name).read_text(encoding="utf-8") for name in LOCKS}


def test_the_locks_are_up_to_date_with_pyproject() -> None:
    problems = stale(real_project(), real_locks())
    assert problems == [], "\n".join([*problems, f"-> {FIX}"])


def test_python_version_file_is_what_the_locks_and_pyproject_are_for() -> None:
    """Heroku reads .python-version; the locks are resolved for it (and newer), and pyproject.toml allows it."""
    version = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"3\.\d+", version), (
        f".python-version should be a major version like 3.11, not {version!r}"
    )
    requires = SpecifierSet(real_project()["requires-python"])
    assert requires.contains(Version(version)), (
        f".python-version {version} is outside requires-python {requires}"
    )
    assert '--python-version "$(cat .python-version)"' in (ROOT / ".ci" / "lock").read_text(encoding="utf-8")
    for name, text in real_locks().items():
        assert "#    bash .ci/lock\n" in text, f"{name} was not made by .ci/lock: {FIX}"


def test_ci_installs_the_test_lock_hash_checked() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-test.txt" in run
    assert "--no-deps -e ." in run


# --- the check catches each kind of stale lock (on edited copies of the real files) ---


def edited(**changes: list[str]) -> dict[str, Any]:
    project = real_project()
    project = {**project, "optional-dependencies": dict(project["optional-dependencies"])}
    for key, lines in changes.items():
        if key == "dependencies":
            project["dependencies"] = lines
        else:
            project["optional-dependencies"][key] = lines
    return project


def test_a_new_dependency_without_a_new_lock_is_caught() -> None:
    project = edited(dependencies=[*real_project()["dependencies"], "feedgen>=1"])
    assert stale(project, real_locks()) == [
        "requirements.txt: feedgen>=1 is in pyproject.toml but not pinned",
        "requirements-test.txt: feedgen>=1 is in pyproject.toml but not pinned",
    ]


def test_a_raised_minimum_and_a_new_test_extra_are_caught() -> None:
    deps = [("httpx>=99" if d.startswith("httpx") else d) for d in real_project()["dependencies"]]
    test = [*real_project()["optional-dependencies"]["test"], "selenium"]
    problems = stale(edited(dependencies=deps, test=test), real_locks())
    assert "requirements.txt: httpx==0.28.1 is outside pyproject.toml's httpx>=99" in problems
    assert "requirements-test.txt: selenium is in pyproject.toml but not pinned" in problems


def test_a_removed_dependency_left_in_the_lock_is_caught() -> None:
    deps = [d for d in real_project()["dependencies"] if not d.startswith("tweepy")]
    problems = stale(edited(dependencies=deps), real_locks())
    assert "requirements.txt: tweepy is pinned for pyproject.toml, which no longer asks for it" in problems
    # tweepy's own dependencies are orphaned too
    assert "requirements.txt: requests-oauthlib is pinned but nothing needs it" in problems


def test_a_hand_edited_lock_is_caught() -> None:
    locks = real_locks()
    deployed = re.sub(r"(?m)^(pyyaml)==[^ ]+", r"\1==6.0.3", locks["requirements.txt"])
    deployed = re.sub(r"(?ms)^(tzdata==[^\n]*\n)(\s+--hash=[^\n]*\n)+", r"tzdata==2026.6\n", deployed)
    problems = stale(real_project(), {**locks, "requirements.txt": deployed})
    assert "pyyaml: CI (requirements-test.txt) would not test the deployed 6.0.3" in problems
    assert "requirements.txt: tzdata has no --hash (pip checks every file it installs)" in problems


def test_the_lock_reader() -> None:
    h = "sha256:" + "0" * 64
    pins = read_lock(
        f"# header\nhttpx==0.28.1 \\\n    --hash={h}\n    # via aasr-bot (pyproject.toml)\n"
        f"cffi==2.1.1 ; platform_python_implementation != 'PyPy' \\\n    --hash={h}\n"
        "    # via\n    #   -c requirements.txt\n    #   cryptography\n"
    )
    assert pins == {
        "httpx": Pin("httpx", "0.28.1", "", (h,), (ROOT_VIA,)),
        "cffi": Pin("cffi", "2.1.1", "platform_python_implementation != 'PyPy'", (h,), ("cryptography",)),
    }
    with pytest.raises(ValueError, match="not a pinned requirement"):
        read_lock("httpx>=0.27\n")
