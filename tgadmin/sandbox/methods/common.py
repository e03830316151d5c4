"""What every Bot API method shares: the call context, the registry, chat access and input checks.

Access follows the official server's `check_chat_access`: a migrated basic group answers writes
with `migrate_to_chat_id`, a kicked bot is `Forbidden`, a chat the bot never belonged to is
`chat not found`, a user who blocked the bot refuses messages.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from PIL import Image, UnidentifiedImageError

from tgadmin.sandbox import errors
from tgadmin.sandbox.args import Args, Upload, to_integer
from tgadmin.sandbox.errors import bad_request, forbidden
from tgadmin.sandbox.state.bots import Bot
from tgadmin.sandbox.state.chats import HOURS_48, Chat, ChatType, Message, StoredFile
from tgadmin.sandbox.state.members import MemberStatus
from tgadmin.sandbox.state.world import World
from tgadmin.sandbox.textparse import parse, utf16_len


@dataclass
class Call:
    world: World
    bot: Bot
    args: Args
    services: Any  # the app's `Services` (delivery); typed loosely to keep this module import-light


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Method:
    name: str
    handler: Handler
    sending: bool = False
    is_async: bool = False


METHODS: dict[str, Method] = {}


H = TypeVar("H", bound=Handler)


def method(name: str, *, sending: bool = False, is_async: bool = False) -> Callable[[H], H]:
    """Register a Bot API method; names are matched case-insensitively, as Telegram does."""

    def register(handler: H) -> H:
        METHODS[name.lower()] = Method(name, handler, sending, is_async)
        return handler

    return register


# ---- chats -------------------------------------------------------------------------------------


def is_admin_with(chat: Chat, user_id: int, right: str) -> bool:
    member = chat.member(user_id)
    if member.status == MemberStatus.CREATOR:
        return True
    return member.status == MemberStatus.ADMINISTRATOR and member.rights.get(right, False)


def is_admin(chat: Chat, user_id: int) -> bool:
    return chat.member(user_id).status in (MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR)


def _check_access(bot: Bot, chat: Chat, write: bool) -> None:
    if chat.type == ChatType.PRIVATE:
        return
    me = chat.members.get(bot.id)
    if me is None:
        raise bad_request(errors.CHAT_NOT_FOUND)
    if chat.type == ChatType.GROUP:
        if chat.migrated_to is not None and write:
            raise errors.migrated(chat.migrated_to)
        if write and me.status == MemberStatus.KICKED:
            raise errors.kicked_from("group")
        if write and me.status == MemberStatus.LEFT:
            raise errors.not_a_member_of("group")
        return
    if me.status == MemberStatus.KICKED:
        raise errors.kicked_from(chat.kind_word)
    if me.status == MemberStatus.LEFT and (write or not chat.username):
        raise errors.not_a_member_of(chat.kind_word)


def find_chat(world: World, bot: Bot, chat_id_text: str) -> Chat | None:
    if chat_id_text.startswith("@"):
        name = chat_id_text[1:].lower()
        return next((c for c in world.chats.values() if (c.username or "").lower() == name), None)
    return world.chat_for(bot, to_integer(chat_id_text))


def resolve_chat(call: Call, write: bool, field: str = "chat_id") -> Chat:
    """The chat named by `field`, checked for read or write access as Telegram checks it."""
    text = call.args.get(field).strip()
    if not text:
        raise bad_request(errors.CHAT_ID_EMPTY if field == "chat_id" else f"{field} is empty")
    chat = find_chat(call.world, call.bot, text)
    if chat is None:
        chat_id = to_integer(text)
        if write and chat_id > 0 and chat_id in call.world.users:
            raise forbidden(errors.CANT_INITIATE)
        raise bad_request(errors.CHAT_NOT_FOUND)
    _check_access(call.bot, chat, write)
    return chat


def check_can_send(bot: Bot, chat: Chat, what: str) -> None:
    """`what` is how Telegram names the content: `text messages`, `photos`, `videos`, `documents`."""
    if chat.type == ChatType.PRIVATE:
        if chat.blocked:
            raise forbidden(errors.BLOCKED)
        return
    if chat.type == ChatType.CHANNEL:
        if not is_admin_with(chat, bot.id, "can_post_messages"):
            raise bad_request(errors.NEED_CHANNEL_ADMIN)
        return
    me = chat.member(bot.id)
    permission = {
        "text messages": "can_send_messages",
        "photos": "can_send_photos",
        "videos": "can_send_videos",
        "documents": "can_send_documents",
    }[what]
    if me.status == MemberStatus.RESTRICTED and not me.rights.get(permission, True):
        raise errors.not_enough_rights_to_send(what)


def sendable_chat(call: Call, what: str) -> Chat:
    chat = resolve_chat(call, write=True)
    check_can_send(call.bot, chat, what)
    return chat


def existing_message(chat: Chat, message_id: int, missing: str) -> Message:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request(missing)
    return message


def can_delete(world: World, bot: Bot, message: Message) -> bool:
    """Telegram's rule: under 48 hours old, and the bot's own message or the rights to delete others'."""
    chat = message.chat
    if world.clock.now() - message.date >= HOURS_48 or message.service.get("_undeletable"):
        return False
    own = message.sender_id == bot.id
    if chat.type == ChatType.PRIVATE:
        return True
    if chat.type == ChatType.CHANNEL:
        return is_admin_with(chat, bot.id, "can_delete_messages") or (
            own and is_admin_with(chat, bot.id, "can_post_messages")
        )
    if chat.type == ChatType.GROUP:
        return own or is_admin(chat, bot.id)
    return own or is_admin_with(chat, bot.id, "can_delete_messages")


# ---- content -----------------------------------------------------------------------------------


def formatted(
    call: Call, field: str, mode_field: str, entities_field: str
) -> tuple[str, list[dict[str, Any]]]:
    entities = call.args.json(entities_field, f"can't parse {entities_field} JSON object")
    return parse(call.args.get(field), call.args.get(mode_field), entities)


def caption_of(call: Call) -> tuple[str | None, list[dict[str, Any]]]:
    caption, entities = formatted(call, "caption", "parse_mode", "caption_entities")
    if utf16_len(caption) > 1024:
        raise bad_request(errors.CAPTION_TOO_LONG)
    return (caption or None), entities


def _check_inline_button(button: Any) -> None:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    data = button.get("callback_data")
    if data is not None:
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
            raise bad_request(errors.BUTTON_DATA_INVALID)
        return
    kinds = ("url", "pay", "login_url", "web_app", "switch_inline_query", "copy_text", "callback_game")
    if not any(k in button for k in kinds) and "switch_inline_query_current_chat" not in button:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")


def reply_markup(call: Call) -> dict[str, Any] | None:
    markup = call.args.json("reply_markup", "can't parse reply keyboard markup JSON object")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        for row in rows:
            for button in row:
                _check_inline_button(button)
    return markup


def _store_upload(world: World, upload: Upload, kind: str) -> StoredFile:
    if not upload.data:
        raise bad_request("file must be non-empty")
    width = height = 0
    if kind == "photo":
        try:
            with Image.open(io.BytesIO(upload.data)) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError, ValueError):
            raise bad_request(errors.IMAGE_PROCESS_FAILED) from None
    return world.new_file(
        kind,
        upload.data,
        mime_type=upload.content_type if kind != "photo" else "image/jpeg",
        file_name=upload.filename if kind != "photo" else None,
        width=width,
        height=height,
    )


def input_file(call: Call, value: str, kind: str, field: str | None = None) -> StoredFile:
    """A file given as an upload (`attach://name` or the field itself), a file_id, or a URL."""
    upload = call.args.uploads.get(field) if field else None
    if value.startswith("attach://"):
        upload = call.args.uploads.get(value.removeprefix("attach://"))
        if upload is None:
            raise bad_request(errors.WRONG_FILE_ID)
    if upload is not None:
        return _store_upload(call.world, upload, kind)
    if not value:
        raise bad_request(f"there is no {kind} in the request")
    if value.startswith(("http://", "https://")):
        # Telegram would download it; the sandbox stays offline and keeps only the address.
        return call.world.new_file(kind, None, url=value)
    stored = call.world.files.get(value)
    if stored is None:
        raise bad_request(errors.WRONG_FILE_ID)
    return stored
