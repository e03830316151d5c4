"""Groups, supergroups and channels: create, list, look inside, set who is a member, migrate."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tgadmin.sandbox import events
from tgadmin.sandbox.control.lookup import ControlError, known_chat, known_user, services_of
from tgadmin.sandbox.render import user_json
from tgadmin.sandbox.state.bots import User
from tgadmin.sandbox.state.chats import Chat, ChatType
from tgadmin.sandbox.state.members import ADMIN_RIGHTS, CHANNEL_ADMIN_RIGHTS, Member, MemberStatus
from tgadmin.sandbox.state.world import World

router = APIRouter(prefix="/sandbox", tags=["sandbox"])


class ChatIn(BaseModel):
    type: Literal["group", "supergroup", "channel"]
    title: str = Field(min_length=1, max_length=128)
    username: str | None = None
    owner_id: int | None = None


@router.post("/chats")
def create_chat(body: ChatIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        if body.owner_id is not None:
            owner = known_user(world, body.owner_id)
        else:
            owner = User(world.next_user_id, f"Owner of {body.title}"[:64])
            world.next_user_id += 1
            world.users[owner.id] = owner
        if body.type == "group":
            chat_id = -world.next_group_id
            world.next_group_id += 1
        else:
            chat_id = -world.next_supergroup_id
            world.next_supergroup_id += 1
        chat = Chat(chat_id, ChatType(body.type), title=body.title, username=body.username, owner_id=owner.id)
        chat.members[owner.id] = Member(owner.id, MemberStatus.CREATOR)
        world.chats[chat_id] = chat
        return {"id": chat_id, "owner_id": owner.id}


def _chat_summary(world: World, chat: Chat) -> dict[str, Any]:
    live = [m for m in chat.messages.values() if not m.deleted]
    data: dict[str, Any] = {"id": chat.id, "type": str(chat.type), "messages": len(live)}
    if chat.type == ChatType.PRIVATE:
        user, bot = world.users.get(chat.id), world.bots.get(chat.bot_id or 0)
        data.update(
            bot_id=chat.bot_id,
            title=f"{user.first_name if user else chat.id} · @{bot.user.username if bot else '?'}",
            blocked=chat.blocked,
        )
    else:
        data.update(title=chat.title, username=chat.username, migrated_to=chat.migrated_to)
    data["last_date"] = max((m.date for m in live), default=0)
    return data


@router.get("/chats")
def list_chats(request: Request) -> list[dict[str, Any]]:
    world = services_of(request).world
    with world.lock:
        chats = [*world.chats.values(), *world.private.values()]
        return sorted((_chat_summary(world, c) for c in chats), key=lambda c: -c["last_date"])


@router.get("/chats/{chat_id}")
def chat_detail(chat_id: int, request: Request, bot_id: int | None = None) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        chat = known_chat(world, chat_id, bot_id)
        members = []
        for member in chat.members.values():
            user = world.user(member.user_id)
            members.append(
                {"user": user_json(user) if user else None, "status": str(member.status), **member.rights}
            )
        return {**_chat_summary(world, chat), "members": members}


class MemberIn(BaseModel):
    user_id: int | None = None
    bot_id: int | None = None
    status: Literal["member", "administrator", "restricted", "left", "kicked"]
    rights: dict[str, bool] | None = None
    actor_id: int | None = None
    until_date: int = 0


def _default_rights(chat: Chat, status: MemberStatus, rights: dict[str, bool] | None) -> dict[str, bool]:
    if status != MemberStatus.ADMINISTRATOR:
        return dict(rights or {})
    names = ADMIN_RIGHTS + (CHANNEL_ADMIN_RIGHTS if chat.type == ChatType.CHANNEL else ())
    defaults = {name: name != "can_promote_members" for name in names}
    return defaults | (rights or {})


@router.post("/chats/{chat_id}/members")
def set_member(chat_id: int, body: MemberIn, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        chat = known_chat(world, chat_id) if chat_id < 0 else None
        if chat is None:
            raise ControlError(400, "members are set in groups, supergroups and channels")
        subject_id = body.bot_id if body.bot_id is not None else body.user_id
        if subject_id is None or world.user(subject_id) is None:
            raise ControlError(404, "give a known user_id or bot_id")
        if chat.member(subject_id).status == MemberStatus.CREATOR:
            raise ControlError(400, "the chat owner's status cannot change")
        status = MemberStatus(body.status)
        actor_id = body.actor_id if body.actor_id is not None else (chat.owner_id or subject_id)
        old = events.change_member(
            world,
            chat,
            subject_id,
            status,
            actor_id,
            _default_rights(chat, status, body.rights),
            body.until_date,
        )
        return {"old_status": str(old.status), "status": str(status)}


@router.post("/chats/{chat_id}/migrate")
def migrate_chat(chat_id: int, request: Request) -> dict[str, Any]:
    world = services_of(request).world
    with world.lock:
        chat = known_chat(world, chat_id) if chat_id < 0 else None
        if chat is None:
            raise ControlError(400, "only groups can be migrated")
        new = events.migrate(world, chat, chat.owner_id or 0)
        return {"id": new.id}
