"""tgadmin: run a Telegram business from one code base."""

__version__ = "0.1.0"
