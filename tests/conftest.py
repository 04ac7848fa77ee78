"""Shared pytest configuration. Area fixtures live in tests/*_fixtures.py and are registered here."""
