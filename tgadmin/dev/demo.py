"""The sandbox's demo cast for `tgadmin dev`: buyer Ana and the supergroup "Grupo Demo", where the
dev bot is an administrator, so the journey can be clicked through on the chat page at once.

The sandbox keeps its world in memory, so every run re-creates the cast in the same order on a
fresh sandbox: the same ids come back (the sandbox numbers users and chats from fixed starts), and
the bot service, told again through `my_chat_member`, updates the group it already has (groups are
keyed by chat id) instead of adding a second one. Run against a sandbox that has them already, it
finds them and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

DEMO_BUYER = {"first_name": "Ana", "username": "ana_demo", "language_code": "pt-br"}
DEMO_GROUP = {"type": "supergroup", "title": "Grupo Demo"}


@dataclass(frozen=True)
class DemoCast:
    buyer_id: int
    group_id: int


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    response.raise_for_status()
    answer: dict[str, Any] = response.json()
    return answer


def _demo_buyer(client: httpx.Client) -> int:
    for user in client.get("/sandbox/users").raise_for_status().json():
        if user.get("username") == DEMO_BUYER["username"]:
            return int(user["id"])
    return int(_post(client, "/sandbox/users", DEMO_BUYER)["id"])


def _demo_group(client: httpx.Client) -> int:
    for chat in client.get("/sandbox/chats").raise_for_status().json():
        if chat["type"] == DEMO_GROUP["type"] and chat.get("title") == DEMO_GROUP["title"]:
            return int(chat["id"])
    return int(_post(client, "/sandbox/chats", DEMO_GROUP)["id"])


def create_demo_cast(sandbox_url: str, bot_id: int) -> DemoCast:
    """Ana (pt-BR) and "Grupo Demo" with Ana as a member and the bot as administrator; idempotent."""
    with httpx.Client(base_url=sandbox_url, timeout=5) as client:
        buyer_id, group_id = _demo_buyer(client), _demo_group(client)
        members = f"/sandbox/chats/{group_id}/members"
        # Setting a status a member already has changes nothing and tells the bot nothing.
        _post(client, members, {"user_id": buyer_id, "status": "member"})
        _post(client, members, {"bot_id": bot_id, "status": "administrator"})
    return DemoCast(buyer_id, group_id)
