"""aasr-bot: the social-media awareness bot of the Alliance Against Seclusion and Restraint."""

__version__ = "0.1.0"
