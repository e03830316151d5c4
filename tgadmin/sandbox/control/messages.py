"""What chats show: messages as the chat page draws them, and the bytes of stored files."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tgadmin.sandbox.brcode_scan import find_pix_codes
from tgadmin.sandbox.control.lookup import ControlError, known_chat, services_of
from tgadmin.sandbox.render import user_json
from tgadmin.sandbox.state.chats import Message
from tgadmin.sandbox.state.world import World

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


def message_view(world: World, message: Message) -> dict[str, Any]:
    sender = world.user(message.sender_id) if message.sender_id else None
    media = None
    if message.media is not None:
        stored = message.media
        media = {
            "kind": stored.kind,
            "file_id": stored.file_id,
            "url": stored.url,
            "file_name": stored.file_name,
            "mime_type": stored.mime_type,
            "width": stored.width,
            "height": stored.height,
            "size": stored.size,
            "has_bytes": stored.data is not None,
        }
    markup = message.reply_markup or {}
    invoice = None
    if message.invoice is not None:
        invoice = {
            k: message.invoice[k] for k in ("title", "description", "currency", "total_amount", "payload")
        }
        invoice["paid_by"] = list(message.paid_by)
    return {
        "message_id": message.message_id,
        "date": message.date,
        "sender": user_json(sender) if sender else None,
        "text": message.text,
        "entities": message.entities,
        "caption": message.caption,
        "media": media,
        "media_group_id": message.media_group_id,
        "buttons": markup.get("inline_keyboard", []),
        "keyboard": markup.get("keyboard", []),
        "protect_content": message.protect_content,
        "deleted": message.deleted,
        "deleted_at": message.deleted_at,
        "edit_date": message.edit_date,
        "invoice": invoice,
        "service": {k: v for k, v in message.service.items() if not k.startswith("_")},
        "pix_codes": find_pix_codes(message.text) + find_pix_codes(message.caption),
    }


@router.get("/chats/{chat_id}/messages")
def chat_messages(chat_id: int, request: Request, bot_id: int | None = None) -> list[dict[str, Any]]:
    world = services_of(request).world
    with world.lock:
        chat = known_chat(world, chat_id, bot_id)
        return [message_view(world, m) for m in chat.messages.values()]


@router.get("/files/{file_id}")
def file_bytes(file_id: str, request: Request) -> Response:
    world = services_of(request).world
    with world.lock:
        stored = world.files.get(file_id)
    if stored is None or stored.data is None:
        raise ControlError(404, "no stored bytes for this file")
    media_type = "image/jpeg" if stored.kind == "photo" else stored.mime_type or "application/octet-stream"
    if stored.kind == "photo" and stored.data[:8] == b"\x89PNG\r\n\x1a\n":
        media_type = "image/png"
    return Response(stored.data, media_type=media_type)
