"""Bad input is answered as Telegram answers it (400/401/404 with its descriptions), never a crash."""

from __future__ import annotations

import json

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramUnauthorizedError

from tests.fixtures.sandbox import Sandbox
from tgadmin.sandbox.methods.common import METHODS


async def test_unknown_token_is_unauthorized_for_aiogram(sandbox: Sandbox) -> None:
    stranger = Bot(
        "123456:AAunknownTokenNeverCreatedInTheSandbox0",
        session=AiohttpSession(api=TelegramAPIServer.from_base(sandbox.url)),
    )
    try:
        with pytest.raises(TelegramUnauthorizedError) as refused:
            await stranger.get_me()
        assert refused.value.message == "Unauthorized"
    finally:
        await stranger.session.close()


async def test_malformed_tokens_and_unknown_methods_are_not_found(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    for path in ("/botnot-a-token/getMe", f"/bot{shop.token}/sendPigeon"):
        response = await sandbox.control.post(path)
        assert response.status_code == 404
        assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    # Method names are case-insensitive, as on api.telegram.org.
    assert (await sandbox.control.get(f"/bot{shop.token}/GETME")).json()["ok"] is True


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        ("sendMessage", {"text": "hi"}, "Bad Request: chat_id is empty"),
        ("sendMessage", {"chat_id": "1"}, "Bad Request: message text is empty"),
        ("sendMessage", {"chat_id": "abc", "text": "hi"}, "Bad Request: chat not found"),
        ("sendMessage", {"chat_id": {"nested": 1}, "text": "hi"}, "Bad Request: chat not found"),
        ("sendMessage", {"chat_id": -1, "text": "x" * 4097}, "Bad Request: message is too long"),
        (
            "sendMessage",
            {"chat_id": 1, "text": "hi", "reply_markup": "{not json"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        ("deleteMessage", {"chat_id": 1}, "Bad Request: message identifier is not specified"),
        ("deleteMessage", {"message_id": 3}, "Bad Request: chat identifier is not specified"),
        (
            "deleteMessages",
            {"chat_id": 1, "message_ids": "[1,"},
            "Bad Request: can't parse message_ids JSON object",
        ),
        (
            "deleteMessages",
            {"chat_id": 1, "message_ids": ["x"]},
            "Bad Request: can't parse message identifier as a Number",
        ),
        (
            "deleteMessages",
            {"chat_id": 1, "message_ids": [0]},
            "Bad Request: invalid message identifier specified",
        ),
        ("sendMediaGroup", {"chat_id": 1}, 'Bad Request: parameter "media" is required'),
        ("sendMediaGroup", {"chat_id": 1, "media": []}, "Bad Request: there are no messages to send"),
        ("sendMediaGroup", {"chat_id": 1, "media": {"a": 1}}, "Bad Request: expected an Array of InputMedia"),
        ("sendPhoto", {"chat_id": 1}, "Bad Request: there is no photo in the request"),
        ("banChatMember", {"chat_id": -5, "user_id": "x"}, "Bad Request: invalid user_id specified"),
        ("sendInvoice", {"chat_id": 1, "title": "t"}, 'Bad Request: parameter "description" is required'),
        (
            "answerCallbackQuery",
            {"callback_query_id": "42"},
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        ),
    ],
)
async def test_missing_and_wrong_typed_parameters_get_telegrams_descriptions(
    sandbox: Sandbox, method: str, params: dict[str, object], description: str
) -> None:
    shop = await sandbox.create_bot()
    response = await sandbox.control.post(f"/bot{shop.token}/{method}", json=params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}


async def test_every_method_survives_junk_in_json_form_and_query_string(sandbox: Sandbox) -> None:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot()
    junk: list[dict[str, object]] = [
        {},
        {"chat_id": "", "message_id": "", "user_id": "", "text": ""},
        {"chat_id": "-1", "message_id": "-5", "user_id": "-7", "media": "[{}]", "prices": "[{}]"},
        {"chat_id": [1], "message_ids": {"x": 1}, "offset": "zz", "timeout": "-3", "reply_markup": [1]},
        {"chat_id": 1.5, "photo": "attach://missing", "url": "http://", "secret_token": "é"},
    ]
    for name in sorted(METHODS):
        for params in junk:
            body = {k: (json.dumps(v) if isinstance(v, list | dict) else str(v)) for k, v in params.items()}
            for response in (
                await sandbox.control.post(f"/bot{shop.token}/{name}", json=params),
                await sandbox.control.post(f"/bot{shop.token}/{name}", data=body),
                await sandbox.control.get(f"/bot{shop.token}/{name}", params=body),
            ):
                assert response.status_code < 500, (name, params, response.text)
                answer = response.json()
                assert answer["ok"] is (response.status_code == 200), (name, params, answer)
                if not answer["ok"]:
                    assert answer["error_code"] == response.status_code and answer["description"]
        await shop.bot.delete_webhook()


async def test_a_broken_multipart_body_is_a_bad_request(sandbox: Sandbox) -> None:
    shop = await sandbox.create_bot()
    response = await sandbox.control.post(
        f"/bot{shop.token}/sendPhoto",
        content=b'--xx\r\nContent-Disposition: form-data; name="photo"; filename="a"\r\n\r\nabc',
        headers={"content-type": "multipart/form-data; boundary=xx"},
    )
    assert response.status_code == 400 and response.json()["ok"] is False
