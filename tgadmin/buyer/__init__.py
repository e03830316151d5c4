"""Buyers: the Telegram users who talk to the bots, one `TelegramUser` row each."""
