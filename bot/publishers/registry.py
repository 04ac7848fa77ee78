"""Every network the bot knows: the ``SPEC`` of each network module in ``bot/publishers/``.

Adding a network is adding one module here that declares ``SPEC = NetworkSpec(...)``; nothing else changes.
Importing the registry imports those modules but never an SDK (network modules load theirs lazily), so
``validate`` and the other read-only commands stay fast.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
from collections.abc import Mapping

from bot.publishers.spec import NetworkSpec, Options, TextRules

_NOT_NETWORKS = frozenset({"base", "dry_run", "factory", "registry", "spec"})
"""The package's own modules; every other public module is a network."""


@functools.cache
def _specs() -> tuple[NetworkSpec, ...]:
    import bot.publishers as package

    found: list[NetworkSpec] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_") or info.name in _NOT_NETWORKS:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, NetworkSpec):
            raise TypeError(f"bot/publishers/{info.name}.py declares no SPEC = NetworkSpec(...)")
        found.append(spec)
    ids = [s.id for s in found]
    if len(set(ids)) != len(ids):
        raise TypeError(f"two network modules declare the same id: {sorted(ids)}")
    return tuple(sorted(found, key=lambda s: (s.order, s.id)))


def specs() -> tuple[NetworkSpec, ...]:
    """Every registered network, in publishing order."""
    return _specs()


def ids() -> tuple[str, ...]:
    return tuple(s.id for s in _specs())


def get(network: str) -> NetworkSpec:
    for spec in _specs():
        if spec.id == network:
            return spec
    raise ValueError(f"unknown network {network!r} (known: {', '.join(ids())})")


def options(network: str, configured: Mapping[str, Options] | None = None) -> Options:
    """A network's settings: what settings.yaml says, else its spec's defaults."""
    found = (configured or {}).get(network)
    return found if found is not None else get(network).defaults()


def text_rules(network: str, configured: Mapping[str, Options] | None = None) -> TextRules:
    """How ``network`` measures text, with the given settings (defaults when none)."""
    spec = get(network)
    found = options(network, configured)
    return dataclasses.replace(
        spec.text(found), spoilers=spec.spoilers, cw_line=bool(found.get("content_warning_line", True))
    )


def measure(network: str, text: str, configured: Mapping[str, Options] | None = None) -> int:
    return text_rules(network, configured).measure(text)


def fits(network: str, text: str, configured: Mapping[str, Options] | None = None) -> bool:
    """Whether ``network`` would accept the text's length (and size, where it caps bytes)."""
    return text_rules(network, configured).fits(text)


def secret_variables() -> tuple[str, ...]:
    """Every environment variable some network treats as a secret."""
    return tuple(c.env for s in _specs() for c in s.credentials if c.secret)
