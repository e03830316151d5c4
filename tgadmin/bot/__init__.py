"""The bot process: Telegram webhook endpoint (or long polling) feeding one aiogram Dispatcher."""
