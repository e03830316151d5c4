"""Who is in a chat and with what rights: member statuses, admin rights, permissions, invite links."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MemberStatus(StrEnum):
    CREATOR = "creator"
    ADMINISTRATOR = "administrator"
    MEMBER = "member"
    RESTRICTED = "restricted"
    LEFT = "left"
    KICKED = "kicked"


PRESENT = frozenset({MemberStatus.CREATOR, MemberStatus.ADMINISTRATOR, MemberStatus.MEMBER})

ADMIN_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
    "can_pin_messages",
    "can_manage_topics",
)
CHANNEL_ADMIN_RIGHTS = ("can_post_messages", "can_edit_messages")
MEMBER_PERMISSIONS = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_react_to_messages",
    "can_edit_tag",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
)


@dataclass
class Member:
    user_id: int
    status: MemberStatus
    rights: dict[str, bool] = field(default_factory=dict)
    until_date: int = 0

    def right(self, name: str) -> bool:
        if self.status == MemberStatus.CREATOR:
            return True
        if self.status == MemberStatus.ADMINISTRATOR:
            return self.rights.get(name, False)
        if self.status == MemberStatus.RESTRICTED:
            return self.rights.get(name, True)
        return self.status == MemberStatus.MEMBER


@dataclass
class InviteLink:
    link: str
    creator_id: int
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    creates_join_request: bool = False
    is_revoked: bool = False
    joined: int = 0
