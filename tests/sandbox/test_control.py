"""The control API contract other parts of tgadmin and the benchmarks rely on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import httpx

from tests.fixtures.sandbox import Sandbox
from tgadmin.redis import free_port


async def test_control_api_contract(sandbox: Sandbox) -> None:
    api = sandbox.control
    bot = (await api.post("/sandbox/bots", json={"username": "shop_bot"})).json()
    assert set(bot) == {"id", "token", "username"} and bot["token"].startswith(f"{bot['id']}:")
    same = (await api.post("/sandbox/bots", json={"username": "shop_bot", "token": bot["token"]})).json()
    assert same["id"] == bot["id"]  # recreating with the same token is idempotent (tgadmin dev restarts)
    assert (await api.post("/sandbox/bots", json={"username": "shop_bot"})).status_code == 400
    fixed = (
        await api.post("/sandbox/bots", json={"username": "dev_bot", "token": "424242:AAfixedTokenForDev"})
    ).json()
    assert fixed["id"] == 424242

    user = (await api.post("/sandbox/users", json={"first_name": "Ana", "language_code": "pt-br"})).json()
    chat = (await api.post("/sandbox/chats", json={"type": "supergroup", "title": "VIP"})).json()
    assert user["id"] > 0 and chat["id"] < -1_000_000_000_000
    added = await api.post(
        f"/sandbox/chats/{chat['id']}/members", json={"bot_id": bot["id"], "status": "administrator"}
    )
    assert added.json() == {"old_status": "left", "status": "administrator"}
    await api.post(f"/sandbox/chats/{chat['id']}/members", json={"user_id": user["id"], "status": "member"})

    said = (
        await api.post(f"/sandbox/users/{user['id']}/messages", json={"text": "/start", "bot_id": bot["id"]})
    ).json()
    assert said == {"message_id": 1, "chat_id": user["id"]}
    token = bot["token"]
    sent = (
        await api.post(
            f"/bot{token}/sendMessage",
            json={
                "chat_id": chat["id"],
                "text": "oferta",
                "protect_content": True,
                "reply_markup": {"inline_keyboard": [[{"text": "Ver", "callback_data": "v"}]]},
            },
        )
    ).json()["result"]
    pressed = await api.post(
        f"/sandbox/users/{user['id']}/press",
        json={"chat_id": chat["id"], "message_id": sent["message_id"], "data": "v"},
    )
    query_id = pressed.json()["callback_query_id"]
    assert (await api.get(f"/sandbox/callback_queries/{query_id}")).json()["answered"] is False
    wrong = await api.post(
        f"/sandbox/users/{user['id']}/press",
        json={"chat_id": chat["id"], "message_id": sent["message_id"], "data": "x"},
    )
    assert wrong.status_code == 400

    messages = (await api.get(f"/sandbox/chats/{chat['id']}/messages")).json()
    post = next(m for m in messages if m["message_id"] == sent["message_id"])
    assert (
        post["protect_content"] is True
        and post["deleted"] is False
        and post["buttons"][0][0]["text"] == "Ver"
    )
    assert {
        "message_id",
        "date",
        "sender",
        "text",
        "caption",
        "media",
        "buttons",
        "deleted",
        "service",
    } <= set(post)

    calls = (await api.get("/sandbox/calls")).json()
    assert [c["method"] for c in calls] == ["sendMessage"] and calls[0]["chat_id"] == chat["id"]
    assert (await api.get("/sandbox/calls", params={"since": calls[-1]["seq"]})).json() == []

    assert (await api.post(f"/sandbox/users/{user['id']}/block", json={"bot_id": bot["id"]})).json() == {
        "blocked": True
    }
    assert (await api.post(f"/sandbox/users/{user['id']}/unblock", json={"bot_id": bot["id"]})).json() == {
        "blocked": False
    }

    before = (await api.get("/sandbox/clock")).json()["now"]
    after = (await api.post("/sandbox/clock", json={"advance_seconds": 3600})).json()["now"]
    assert 3600 <= after - before < 3610
    assert (await api.post("/sandbox/clock", json={"advance_seconds": -1})).status_code == 400
    frozen = (await api.post("/sandbox/clock", json={"frozen": True})).json()
    await asyncio.sleep(0.05)
    assert (await api.get("/sandbox/clock")).json() == frozen and frozen["frozen"] is True
    moved = (await api.post("/sandbox/clock", json={"advance_seconds": 60})).json()["now"]
    assert moved == frozen["now"] + 60
    thawed = (await api.post("/sandbox/clock", json={"frozen": False})).json()
    assert thawed["frozen"] is False and thawed["now"] >= moved

    config = (await api.post("/sandbox/config", json={"per_group_per_min": 5})).json()
    assert config == {
        "per_chat_per_sec": 1,
        "per_group_per_min": 5,
        "per_bot_per_sec": 30,
        "enforce_limits": True,
        "webhook_timeout_seconds": 30.0,
    }
    assert (await api.post("/sandbox/config", json={"per_bot_per_sec": 0})).status_code == 400
    assert (await api.post("/sandbox/config", json={"webhook_timeout_seconds": 0})).status_code == 400

    group = (await api.post("/sandbox/chats", json={"type": "group", "title": "Old"})).json()
    migrated = (await api.post(f"/sandbox/chats/{group['id']}/migrate")).json()
    assert migrated["id"] < -1_000_000_000_000
    assert (await api.post(f"/sandbox/chats/{group['id']}/migrate")).status_code == 400

    assert (await api.get("/sandbox/chats/-1/messages")).status_code == 404
    assert (await api.post("/sandbox/users/1/messages", json={"text": "x"})).status_code == 404

    assert (await api.post("/sandbox/reset")).json() == {"ok": True}
    assert (await api.get("/sandbox/chats")).json() == []
    assert (await api.get(f"/bot{token}/getMe")).status_code == 401
    assert (await api.get("/sandbox/config")).json()["per_group_per_min"] == 20


async def test_looking_at_a_private_chat_does_not_start_it(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    user = await sandbox.create_user("Ana")
    assert (await sandbox.control.get(f"/sandbox/chats/{user}/messages")).status_code == 404
    response = await sandbox.control.post(
        f"/bot{shop.token}/sendMessage", json={"chat_id": user, "text": "hi"}
    )
    assert response.json()["description"] == "Forbidden: bot can't initiate conversation with a user"


def test_tgadmin_sandbox_command_serves_the_bot_api_and_prints_no_secret() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tgadmin", "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TELEGRAM_BOT_TOKEN": "999:AAsecretThatMustNotBePrinted"},
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{url}/sandbox/clock", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "sandbox did not start"
            time.sleep(0.1)
        created = httpx.post(f"{url}/sandbox/bots", json={"username": "cli_bot"}).json()
        assert httpx.get(f"{url}/bot{created['token']}/getMe").json()["result"]["username"] == "cli_bot"
        assert "<title>Telegram sandbox</title>" in httpx.get(url + "/").text
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0].decode()
    assert f"http://127.0.0.1:{port}" in output
    assert "AAsecretThatMustNotBePrinted" not in output and created["token"] not in output
