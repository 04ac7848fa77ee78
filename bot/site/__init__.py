"""The static website a volunteer can look at: coming posts as each network will show them, the awareness
calendar (with a rolling ``calendar.ics`` to subscribe to) and, with a ledger, what was sent.

Templates and the one stylesheet live in this package (``templates/``, ``static/``); pages need no JavaScript,
load nothing from elsewhere and track no one.
"""

from bot.site.build import Built, SiteOptions, build_site

__all__ = ["Built", "SiteOptions", "build_site"]
