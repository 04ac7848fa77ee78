"""Posts that repeat a recent text on a network that refuses repeats (X refuses a text it saw recently).

``validate`` warns (an error with ``--strict``) when two posts that would go out within a network's
``repeat_window`` of each other have the same final text there: the second would be refused, and its row failed.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.models import Due
from bot.problems import Problem
from bot.schedules import Schedules

HORIZON = timedelta(days=366)
"""How far ahead ``validate`` looks: a year of posts (plus one window, so the last pairs are seen too)."""


def repeated_texts(schedules: Schedules, today: date) -> list[Problem]:
    """One warning per post whose text repeats an earlier post's within the network's window, naming both."""
    from bot.compose import TemplateError, render
    from bot.planner import day_window, due_between
    from bot.publishers import registry

    settings = schedules.settings
    windows = {
        network: registry.get(network).repeat_window
        for network in settings.networks
        if network in registry.ids() and registry.get(network).repeat_window is not None
    }
    if not windows:
        return []
    longest = max(w for w in windows.values() if w is not None)
    start, end = day_window(today, today + HORIZON + longest, settings.timezone)
    dues = due_between(schedules, start, end)
    problems: list[Problem] = []
    for network, window in windows.items():
        assert window is not None
        rules = registry.text_rules(network, settings.network_options)
        last: dict[str, tuple[datetime, Due]] = {}
        for due in dues:
            try:
                text = " ".join(render(due.draft, network, rules).split())
            except TemplateError:
                continue  # reported by the post checks
            earlier = last.get(text)
            if earlier is not None and due.at - earlier[0] < window and _where(due) != _where(earlier[1]):
                problems.append(_problem(network, window, due, earlier[1]))
            last[text] = (due.at, due)
    return problems


def _where(due: Due) -> tuple[str, int]:
    return (due.draft.file, due.draft.line)


def _problem(network: str, window: timedelta, due: Due, earlier: Due) -> Problem:
    from bot.publishers import registry

    name = registry.get(network).name
    days = (due.at - earlier.at).days
    when = f"{days} day(s)" if days else "less than a day"
    return Problem(
        file=due.draft.file,
        line=due.draft.line or 1,
        column=1,
        severity="warning",
        message=(
            f"same text on {name} as {earlier.draft.file}:{earlier.draft.line or 1} ({due.at:%Y-%m-%d} is {when}"
            f" after {earlier.at:%Y-%m-%d}); {name} refuses a text it saw in the last {window.days} days"
        ),
        hint=f"vary one of the two texts, or give one a `{network}:` text of its own",
        code="repeated-text",
    )
