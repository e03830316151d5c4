"""The control API under `/sandbox/`: what users, chat owners and the test harness do to the world.

Errors are JSON `{"error": reason}` with 400 (refused action, bad input) or 404 (unknown bot, user,
chat or message). Private chats are addressed by the user's id plus, when several bots exist, the
bot's id (`bot_id`), since every bot has its own private chat with the same user.

Modules: lookup (errors, what a request names), accounts (bots, users), chats (groups and channels,
members, migration), user_actions (write, press, block, pay, join), messages (what chats show,
file bytes), harness (call log, clock, rate config, forced 429s, reset).
"""

from __future__ import annotations

from fastapi import APIRouter

from tgadmin.sandbox.control import accounts, chats, harness, messages, user_actions

router = APIRouter()
for part in (accounts, chats, user_actions, messages, harness):
    router.include_router(part.router)
