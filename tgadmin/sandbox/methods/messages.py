"""Sending, copying, editing and deleting messages; answering callback queries."""

from __future__ import annotations

import json
import secrets
from typing import Any

from tgadmin.sandbox import errors
from tgadmin.sandbox.args import to_integer_safe
from tgadmin.sandbox.errors import bad_request
from tgadmin.sandbox.methods.common import (
    Call,
    can_delete,
    caption_of,
    check_can_send,
    existing_message,
    formatted,
    input_file,
    method,
    reply_markup,
    resolve_chat,
    sendable_chat,
)
from tgadmin.sandbox.render import message_json
from tgadmin.sandbox.state.chats import Chat, Message, StoredFile
from tgadmin.sandbox.textparse import utf16_len

MEDIA_WORDS = {"photo": "photos", "video": "videos", "document": "documents"}


def _post(call: Call, chat: Chat, **fields: Any) -> Message:
    return chat.add_message(
        call.bot.id, call.world.now(), protect_content=call.args.flag("protect_content"), **fields
    )


@method("sendMessage", sending=True)
def send_message(call: Call) -> dict[str, Any]:
    text, entities = formatted(call, "text", "parse_mode", "entities")
    if not text.strip():
        raise bad_request(errors.MESSAGE_TEXT_EMPTY)
    if utf16_len(text) > 4096:
        raise bad_request(errors.MESSAGE_TOO_LONG)
    markup = reply_markup(call)
    chat = sendable_chat(call, "text messages")
    message = _post(call, chat, text=text, entities=entities, reply_markup=markup)
    return message_json(call.world, message)


def _send_media(call: Call, kind: str) -> dict[str, Any]:
    caption, entities = caption_of(call)
    markup = reply_markup(call)
    stored = input_file(call, call.args.get(kind), kind, field=kind)
    chat = sendable_chat(call, MEDIA_WORDS[kind])
    message = _post(call, chat, media=stored, caption=caption, caption_entities=entities, reply_markup=markup)
    return message_json(call.world, message)


@method("sendPhoto", sending=True)
def send_photo(call: Call) -> dict[str, Any]:
    return _send_media(call, "photo")


@method("sendVideo", sending=True)
def send_video(call: Call) -> dict[str, Any]:
    return _send_media(call, "video")


@method("sendDocument", sending=True)
def send_document(call: Call) -> dict[str, Any]:
    return _send_media(call, "document")


def _album_item(call: Call, item: Any) -> tuple[StoredFile, str | None]:
    if not isinstance(item, dict):
        raise bad_request("can't parse InputMedia: expected an Object")
    kind = item.get("type")
    if kind == "animation":
        raise bad_request("can't parse InputMedia: type \"animation\" can't be used in sendMediaGroup")
    if kind not in MEDIA_WORDS:
        raise bad_request(f'can\'t parse InputMedia: type "{kind}" is unsupported')
    media = item.get("media")
    if not isinstance(media, str) or not media:
        raise bad_request("can't parse InputMedia: media not found")
    caption = item.get("caption")
    if caption is not None and (not isinstance(caption, str) or utf16_len(caption) > 1024):
        raise bad_request(errors.CAPTION_TOO_LONG)
    return input_file(call, media, str(kind)), caption or None


@method("sendMediaGroup", sending=True)
def send_media_group(call: Call) -> list[dict[str, Any]]:
    media = call.args.json("media", "can't parse media JSON object")
    if media is None:
        raise errors.required("media")
    if not isinstance(media, list):
        raise bad_request("expected an Array of InputMedia")
    if not media:
        raise bad_request(errors.NO_MESSAGES_TO_SEND)
    if len(media) > 10:
        raise bad_request(errors.TOO_MANY_ALBUM_ITEMS)
    kinds = {item.get("type") for item in media if isinstance(item, dict)}
    if "document" in kinds and kinds & {"photo", "video"}:
        raise bad_request(errors.DOCUMENT_MIXED)
    items = [_album_item(call, item) for item in media]
    chat = resolve_chat(call, write=True)
    for kind in sorted({stored.kind for stored, _ in items}):
        check_can_send(call.bot, chat, MEDIA_WORDS[kind])
    # As Telegram does, a single item is sent as an ordinary message outside any album.
    group_id = str(secrets.randbelow(10**18) + 10**17) if len(items) > 1 else None
    messages = [
        _post(call, chat, media=stored, caption=caption, media_group_id=group_id) for stored, caption in items
    ]
    return [message_json(call.world, message) for message in messages]


@method("copyMessage", sending=True)
def copy_message(call: Call) -> dict[str, Any]:
    message_id = call.args.integer("message_id")
    if message_id <= 0:
        raise bad_request(errors.MESSAGE_ID_MISSING)
    source_chat = resolve_chat(call, write=False, field="from_chat_id")
    source = existing_message(source_chat, message_id, errors.MESSAGE_TO_COPY_NOT_FOUND)
    if source.protect_content:
        raise bad_request(errors.PROTECTED_CONTENT)
    if source.invoice is not None or (source.text is None and source.media is None):
        raise bad_request(errors.MESSAGE_CANT_BE_COPIED)
    caption, caption_entities = source.caption, source.caption_entities
    if call.args.get("caption"):
        caption, caption_entities = caption_of(call)
    markup = reply_markup(call)
    what = "text messages" if source.media is None else MEDIA_WORDS[source.media.kind]
    chat = sendable_chat(call, what)
    copy = _post(
        call,
        chat,
        text=source.text,
        entities=list(source.entities),
        media=source.media,
        caption=caption,
        caption_entities=caption_entities,
        reply_markup=markup,
    )
    return {"message_id": copy.message_id}


def _editable(call: Call) -> Message:
    chat = resolve_chat(call, write=True)
    message_id = call.args.integer("message_id")
    if message_id <= 0:
        raise bad_request(errors.MESSAGE_ID_MISSING)
    message = existing_message(chat, message_id, errors.MESSAGE_TO_EDIT_NOT_FOUND)
    if message.sender_id != call.bot.id:
        raise bad_request(errors.MESSAGE_CANT_BE_EDITED)
    return message


def _finish_edit(call: Call, message: Message, changes: dict[str, Any]) -> dict[str, Any]:
    if all(getattr(message, name) == value for name, value in changes.items()):
        raise bad_request(errors.MESSAGE_NOT_MODIFIED)
    for name, value in changes.items():
        setattr(message, name, value)
    message.edit_date = call.world.now()
    return message_json(call.world, message)


@method("editMessageText")
def edit_message_text(call: Call) -> dict[str, Any]:
    text, entities = formatted(call, "text", "parse_mode", "entities")
    if not text.strip():
        raise bad_request(errors.MESSAGE_TEXT_EMPTY)
    if utf16_len(text) > 4096:
        raise bad_request(errors.MESSAGE_TOO_LONG)
    markup = reply_markup(call)
    message = _editable(call)
    if message.text is None:
        raise bad_request(errors.NO_TEXT_TO_EDIT)
    return _finish_edit(call, message, {"text": text, "entities": entities, "reply_markup": markup})


@method("editMessageCaption")
def edit_message_caption(call: Call) -> dict[str, Any]:
    caption, entities = caption_of(call)
    markup = reply_markup(call)
    message = _editable(call)
    if message.media is None:
        raise bad_request(errors.NO_CAPTION_TO_EDIT)
    return _finish_edit(
        call, message, {"caption": caption, "caption_entities": entities, "reply_markup": markup}
    )


@method("editMessageReplyMarkup")
def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    markup = reply_markup(call)
    message = _editable(call)
    return _finish_edit(call, message, {"reply_markup": markup})


@method("deleteMessage")
def delete_message(call: Call) -> bool:
    if not call.args.get("chat_id"):
        raise bad_request("chat identifier is not specified")
    message_id = call.args.integer("message_id")
    if message_id <= 0:
        raise bad_request(errors.MESSAGE_ID_MISSING)
    chat = resolve_chat(call, write=True)
    message = existing_message(chat, message_id, errors.MESSAGE_TO_DELETE_NOT_FOUND)
    if not can_delete(call.world, call.bot, message):
        raise bad_request(errors.MESSAGE_CANT_BE_DELETED)
    message.deleted_at = call.world.now()
    return True


def _message_ids(call: Call) -> list[int]:
    raw = call.args.get("message_ids")
    if not raw:
        raise bad_request(errors.MESSAGE_IDS_MISSING)
    try:
        value = json.loads(raw)
    except ValueError:
        raise bad_request("can't parse message_ids JSON object") from None
    if not isinstance(value, list):
        raise bad_request("expected an Array of message identifiers")
    if len(value) > 100:
        raise bad_request(errors.TOO_MANY_MESSAGE_IDS)
    ids = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | str):
            raise bad_request("message identifier must be a Number")
        parsed = to_integer_safe(str(item))
        if parsed is None:
            raise bad_request("can't parse message identifier as a Number")
        if parsed <= 0:
            raise bad_request("invalid message identifier specified")
        ids.append(parsed)
    if not ids:
        raise bad_request(errors.MESSAGE_IDS_MISSING)
    return ids


@method("deleteMessages")
def delete_messages(call: Call) -> bool:
    """Missing ids are skipped; if any found message cannot be deleted, none is (all or nothing)."""
    ids = _message_ids(call)
    chat = resolve_chat(call, write=True)
    found = [m for m in (chat.messages.get(i) for i in ids) if m is not None and not m.deleted]
    if any(not can_delete(call.world, call.bot, message) for message in found):
        raise bad_request(errors.MESSAGE_CANT_BE_DELETED)
    now = call.world.now()
    for message in found:
        message.deleted_at = now
    return True


@method("answerCallbackQuery")
def answer_callback_query(call: Call) -> bool:
    query = call.bot.callback_queries.get(call.args.get("callback_query_id"))
    if query is None or query.answered:
        raise bad_request(errors.QUERY_INVALID)
    query.answered = True
    query.answer = {
        "text": call.args.get("text") or None,
        "show_alert": call.args.flag("show_alert"),
        "url": call.args.get("url") or None,
    }
    return True
