"""The network registry: one module per network, found without importing any SDK; generic code never names a
network; each network's settings block is checked by its own spec with file:line errors."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.publishers import registry
from bot.publishers.spec import NetworkSpec
from bot.schedules import load_schedules

REPO = Path(__file__).resolve().parents[1]
BOT = REPO / "bot"
SDKS = {"tweepy", "atproto", "atproto_client", "atproto_core", "requests", "mastodon"}
KNOWN_IDS = {"x", "bluesky", "mastodon"}


def network_literals(path: Path, ids: set[str]) -> list[tuple[int, str]]:
    """Every string literal in ``path`` that is exactly a network id (not the text between an f-string's
    fields, such as the "x" of ``f"{width}x{height}"``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    pieces = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in ids
        and id(node) not in pieces
    ]


def test_no_module_outside_a_network_s_own_names_a_network() -> None:
    ids = set(registry.ids()) | KNOWN_IDS
    found = []
    for path in sorted(BOT.rglob("*.py")):
        own = path.parent == BOT / "publishers" and path.stem in ids
        if own:
            continue
        found += [
            f"{path.relative_to(REPO)}:{line}: {value!r}" for line, value in network_literals(path, ids)
        ]
    assert found == [], "generic code names a network; loop over bot.publishers.registry instead"


def test_the_literal_check_can_fail(tmp_path: Path) -> None:
    sample = tmp_path / "generic.py"
    sample.write_text(
        'if network == "bluesky":\n    pass\nsize = f"{w}x{h}"\nlimits = {"mastodon": 500}\n',
        encoding="utf-8",
    )
    assert network_literals(sample, KNOWN_IDS) == [(1, "bluesky"), (4, "mastodon")]


def test_each_network_module_declares_its_own_spec() -> None:
    specs = registry.specs()
    assert [s.id for s in specs][:2] == ["x", "bluesky"]
    for spec in specs:
        assert isinstance(spec, NetworkSpec)
        assert (BOT / "publishers" / f"{spec.id}.py").is_file()
        assert spec.credentials, spec.id
        assert any(c.secret for c in spec.credentials), spec.id
        rules = spec.text(spec.defaults())
        assert rules.limit > 0 and rules.measure("abc") == 3
        assert spec.images.max_images >= 1 and spec.images.max_alt_chars >= 1000
    assert "X_API_SECRET" in registry.secret_variables()
    assert "BLUESKY_APP_PASSWORD" in registry.secret_variables()
    assert "BLUESKY_HANDLE" not in registry.secret_variables()


def test_importing_the_registry_and_every_spec_imports_no_sdk() -> None:
    script = (
        "import json, sys\n"
        "from bot.publishers import registry\n"
        "from bot.schedules import load_schedules\n"
        "specs = registry.specs()\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120, check=True
    )
    loaded = set(json.loads(result.stdout))
    assert loaded & SDKS == set()
    assert {"PIL", "httpx"} & loaded == set()  # not needed to read a spec either


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def problems(root: Path) -> list[str]:
    loaded = load_schedules(root, root.parent / "content")
    return [f"{p.line}:{p.column}: {p.message}" for p in loaded.errors()]


def test_network_options_are_checked_by_the_network_s_spec(tmp_path: Path) -> None:
    root = write(
        tmp_path / "s",
        {
            "settings.yaml": "networks: [x, bluesky]\n"
            "x:\n  daily_post_cap: lots\n  monthly_budget: 5\n"
            "bluesky:\n  colour: blue\n"
        },
    )
    assert problems(root) == [
        "3:19: daily_post_cap must be a whole number, found 'lots'",
        "4:3: unknown key 'monthly_budget' in x settings",
        "6:3: unknown key 'colour' in bluesky settings",
    ]


def test_network_options_reach_the_settings_with_defaults(tmp_path: Path) -> None:
    root = write(tmp_path / "s", {"settings.yaml": "x:\n  daily_post_cap: 7\n"})
    settings = load_schedules(root, tmp_path / "content").schedules.settings
    assert settings.network_options["x"]["daily_post_cap"] == 7
    assert settings.network_options["x"]["monthly_budget_usd"] == 30.0
    assert settings.networks == registry.ids()


def test_unknown_network_names_the_known_ones(tmp_path: Path) -> None:
    root = write(tmp_path / "s", {"settings.yaml": "networks: [x, myspace]\n"})
    loaded = load_schedules(root, tmp_path / "content")
    assert [p.message for p in loaded.errors()] == ["unknown network 'myspace'"]
    assert loaded.errors()[0].hint == "networks are: " + ", ".join(registry.ids())
    assert loaded.schedules.settings.networks == ("x",)


@pytest.mark.parametrize("network", registry.ids())
def test_a_text_variant_works_for_every_registered_network(tmp_path: Path, network: str) -> None:
    root = write(
        tmp_path / "s",
        {
            "queue/q.yaml": "posts:\n  - id: q\n    at: '2027-01-05 10:00'\n    text: Hello.\n"
            f"    {network}: Hello, {network}.\n"
        },
    )
    loaded = load_schedules(root, tmp_path / "content")
    assert loaded.errors() == []
    assert dict(loaded.schedules.queue[0].spec.variants) == {network: f"Hello, {network}."}


def test_too_long_variant_is_reported_in_the_network_s_own_unit(tmp_path: Path) -> None:
    for spec in registry.specs():
        rules = spec.text(spec.defaults())
        root = write(
            tmp_path / spec.id,
            {
                "queue/q.yaml": "posts:\n  - id: q\n    at: '2027-01-05 10:00'\n    text: Hello.\n"
                f"    {spec.id}: {'a' * (rules.limit + 1)}\n"
            },
        )
        assert problems(root) == [
            f"5:{len(spec.id) + 7}: text is too long for {spec.id}: {rules.limit + 1}/{rules.limit} "
            f"{rules.unit}"
        ]
