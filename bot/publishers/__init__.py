"""Thin adapters, one per network, behind the ``Publisher`` protocol in ``base``.

Nothing outside this package imports tweepy or atproto; ``load_publisher`` imports an adapter only when a
command really publishes, so read-only commands stay fast.
"""
