"""Sending, editing, copying and deleting, with Telegram's rules and exact errors, through aiogram."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
)

from tests.fixtures.sandbox import Sandbox, SandboxBot
from tests.narrow import of_type, present
from tests.sandbox.conftest import png_bytes

BUTTON = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Buy", callback_data="buy:1")]])


async def started_chat(sandbox: Sandbox) -> tuple[SandboxBot, int]:
    await sandbox.configure(enforce_limits=False)
    shop = await sandbox.create_bot()
    user = await sandbox.create_user("Ana")
    await sandbox.user_says(user, "/start")
    return shop, user


async def test_messages_older_than_48_hours_cannot_be_deleted(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    await sandbox.freeze()  # to the second, however slow the machine
    old = await shop.bot.send_message(user, "old")
    young = await shop.bot.send_message(user, "young")
    await sandbox.advance(47 * 3600 + 3599)
    assert await shop.bot.delete_message(user, young.message_id) is True
    await sandbox.advance(1)
    with pytest.raises(TelegramBadRequest) as refused:
        await shop.bot.delete_message(user, old.message_id)
    assert refused.value.message == "Bad Request: message can't be deleted"
    with pytest.raises(TelegramBadRequest) as missing:
        await shop.bot.delete_message(user, young.message_id)
    assert missing.value.message == "Bad Request: message to delete not found"
    shown = {m["message_id"]: m["deleted"] for m in await sandbox.messages(user)}
    assert shown[old.message_id] is False and shown[young.message_id] is True


async def test_delete_messages_skips_missing_ids_and_is_all_or_nothing(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    sent = [(await shop.bot.send_message(user, f"m{n}")).message_id for n in range(3)]
    assert await shop.bot.delete_messages(user, [sent[0], 999_999, sent[1]]) is True
    deleted = {m["message_id"] for m in await sandbox.messages(user) if m["deleted"]}
    assert deleted == {sent[0], sent[1]}
    assert await shop.bot.delete_messages(user, [777_777]) is True
    await sandbox.advance(48 * 3600)
    fresh = (await shop.bot.send_message(user, "fresh")).message_id
    with pytest.raises(TelegramBadRequest) as refused:
        await shop.bot.delete_messages(user, [fresh, sent[2]])
    assert refused.value.message == "Bad Request: message can't be deleted"
    assert not any(m["deleted"] for m in await sandbox.messages(user) if m["message_id"] == fresh)


async def test_delete_messages_takes_one_to_one_hundred_ids(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    with pytest.raises(TelegramBadRequest) as too_many:
        await shop.bot.delete_messages(user, list(range(1, 102)))
    assert too_many.value.message == "Bad Request: too many message identifiers specified"
    with pytest.raises(TelegramBadRequest) as empty:
        await shop.bot.delete_messages(user, [])
    assert empty.value.message == "Bad Request: message identifiers are not specified"


async def test_only_an_admin_bot_deletes_other_peoples_messages_in_a_supergroup(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    group = await sandbox.create_chat("supergroup", "Fans")
    await sandbox.add_member(group, bot_id=shop.id, status="member")
    await sandbox.add_member(group, user_id=user, status="member")
    theirs = await sandbox.user_says(user, "hi all", chat_id=group)
    own = (await shop.bot.send_message(group, "bot post")).message_id
    with pytest.raises(TelegramBadRequest) as refused:
        await shop.bot.delete_message(group, theirs)
    assert refused.value.message == "Bad Request: message can't be deleted"
    assert await shop.bot.delete_message(group, own) is True
    await sandbox.add_member(
        group, bot_id=shop.id, status="administrator", rights={"can_delete_messages": True}
    )
    assert await shop.bot.delete_message(group, theirs) is True


async def test_albums_take_two_to_ten_items_and_carry_one_media_group_id(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    photo = await shop.bot.send_photo(user, BufferedInputFile(png_bytes(), "p.png"), caption="first")
    file_id = present(photo.photo)[-1].file_id
    album = await shop.bot.send_media_group(user, [InputMediaPhoto(media=file_id) for _ in range(10)])
    assert len(album) == 10 and len({m.media_group_id for m in album}) == 1 and album[0].media_group_id
    assert all(present(m.photo)[-1].file_id == file_id for m in album)
    with pytest.raises(TelegramBadRequest) as too_many:
        await shop.bot.send_media_group(user, [InputMediaPhoto(media=file_id) for _ in range(11)])
    assert too_many.value.message == "Bad Request: too many messages to send as an album"
    with pytest.raises(TelegramBadRequest) as mixed:
        await shop.bot.send_media_group(
            user,
            [InputMediaPhoto(media=file_id), InputMediaDocument(media=BufferedInputFile(b"%PDF", "a.pdf"))],
        )
    assert mixed.value.message == "Bad Request: document can't be mixed with other media types"
    assert len(await sandbox.messages(user)) == 1 + 1 + 10


async def test_uploaded_photos_get_reusable_file_ids_and_their_bytes_are_kept(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    data = png_bytes("blue", (40, 30))
    sent = await shop.bot.send_photo(user, BufferedInputFile(data, "blue.png"), protect_content=True)
    size = present(sent.photo)[-1]
    assert (size.width, size.height) == (40, 30) and sent.has_protected_content
    again = await shop.bot.send_photo(user, size.file_id)
    assert present(again.photo)[-1].file_unique_id == size.file_unique_id
    served = await sandbox.control.get(f"/sandbox/files/{size.file_id}")
    assert served.content == data and served.headers["content-type"] == "image/png"
    with pytest.raises(TelegramBadRequest) as unknown:
        await shop.bot.send_photo(user, "AgACAgIAAxkBAAnotAFileId")
    assert unknown.value.message == "Bad Request: wrong file identifier/HTTP URL specified"
    with pytest.raises(TelegramBadRequest) as not_image:
        await shop.bot.send_photo(user, BufferedInputFile(b"not an image", "x.jpg"))
    assert not_image.value.message == "Bad Request: IMAGE_PROCESS_FAILED"


async def test_documents_and_videos_keep_their_names(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    doc = await shop.bot.send_document(user, BufferedInputFile(b"hello", "notes.txt"), caption="c")
    assert present(doc.document).file_name == "notes.txt" and doc.caption == "c"
    video = await shop.bot.send_video(user, BufferedInputFile(b"\x00\x00\x00\x18ftypmp42", "v.mp4"))
    assert present(video.video).file_id.startswith("BAAC")


async def test_edits_follow_telegram_rules(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    sent = await shop.bot.send_message(user, "price: 10", reply_markup=BUTTON)
    edited = of_type(
        await shop.bot.edit_message_text(
            "price: 12", chat_id=user, message_id=sent.message_id, reply_markup=BUTTON
        ),
        Message,
    )
    assert edited.text == "price: 12" and edited.edit_date
    with pytest.raises(TelegramBadRequest) as same:
        await shop.bot.edit_message_text(
            "price: 12", chat_id=user, message_id=sent.message_id, reply_markup=BUTTON
        )
    assert same.value.message.startswith("Bad Request: message is not modified")
    with pytest.raises(TelegramBadRequest) as missing:
        await shop.bot.edit_message_text("x", chat_id=user, message_id=999)
    assert missing.value.message == "Bad Request: message to edit not found"
    with pytest.raises(TelegramBadRequest) as not_own:
        await shop.bot.edit_message_text("x", chat_id=user, message_id=1)
    assert not_own.value.message == "Bad Request: message can't be edited"
    removed = of_type(
        await shop.bot.edit_message_reply_markup(chat_id=user, message_id=sent.message_id), Message
    )
    assert removed.reply_markup is None
    with pytest.raises(TelegramBadRequest) as no_caption:
        await shop.bot.edit_message_caption(chat_id=user, message_id=sent.message_id, caption="c")
    assert no_caption.value.message == "Bad Request: there is no caption in the message to edit"


async def test_copies_respect_protected_content(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    group = await sandbox.create_chat("supergroup", "Fans")
    await sandbox.add_member(group, bot_id=shop.id, status="administrator")
    open_post = await shop.bot.send_message(group, "free preview")
    copy = await shop.bot.copy_message(user, group, open_post.message_id)
    shown = {m["message_id"]: m for m in await sandbox.messages(user)}
    assert shown[copy.message_id]["text"] == "free preview"
    locked = await shop.bot.send_message(group, "paid", protect_content=True)
    with pytest.raises(TelegramBadRequest) as refused:
        await shop.bot.copy_message(user, group, locked.message_id)
    assert refused.value.message == "Bad Request: message has protected content and can't be forwarded"


async def test_blocked_and_never_started_users_refuse_messages(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    stranger = await sandbox.create_user("Bia")
    with pytest.raises(TelegramForbiddenError) as cannot:
        await shop.bot.send_message(stranger, "hi")
    assert cannot.value.message == "Forbidden: bot can't initiate conversation with a user"
    await sandbox.block(user)
    with pytest.raises(TelegramForbiddenError) as blocked:
        await shop.bot.send_message(user, "hi")
    assert blocked.value.message == "Forbidden: bot was blocked by the user"
    await sandbox.unblock(user)
    await shop.bot.send_message(user, "welcome back")
    kinds = [
        u.my_chat_member.new_chat_member.status for u in await shop.bot.get_updates() if u.my_chat_member
    ]
    assert kinds == ["kicked", "member"]


async def test_html_is_parsed_into_text_and_entities(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    sent = await shop.bot.send_message(
        user, 'Olá <b>Ana</b> &amp; <a href="https://t.me/x">link</a>', parse_mode="HTML"
    )
    assert sent.text == "Olá Ana & link"
    assert [(e.type, e.offset, e.length) for e in present(sent.entities)] == [
        ("bold", 4, 3),
        ("text_link", 10, 4),
    ]
    with pytest.raises(TelegramBadRequest) as broken:
        await shop.bot.send_message(user, "<b>open", parse_mode="HTML")
    assert broken.value.message.startswith("Bad Request: can't parse entities")


async def test_buttons_must_be_valid(sandbox: Sandbox) -> None:
    shop, user = await started_chat(sandbox)
    too_long = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]
    )
    with pytest.raises(TelegramBadRequest) as refused:
        await shop.bot.send_message(user, "hi", reply_markup=too_long)
    assert refused.value.message == "Bad Request: BUTTON_DATA_INVALID"
