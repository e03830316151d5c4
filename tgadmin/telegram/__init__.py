"""Everything that speaks to Telegram: bot accounts, the client, the gateway (rate limits, error classes)."""
