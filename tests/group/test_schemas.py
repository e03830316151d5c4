"""`GroupRead.of` builds the read model without validating it again (the list page builds 50 at a
time); what it builds must be what validation would have made of the same row, on both databases."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import make_bot, make_group
from tgadmin.clock import utcnow
from tgadmin.group.schemas import GroupRead
from tgadmin.models import Group
from tgadmin.models.enums import BotMemberStatus, ChatType


async def test_the_read_model_is_the_one_validation_makes_of_the_same_row(session: AsyncSession) -> None:
    bot = await make_bot(session)
    admin = await make_group(session, bot, title="Admin")
    admin.bot_rights = {"can_delete_messages": True, "can_invite_users": False}
    admin.username, admin.member_count, admin.last_synced_at = "ofertas", 120, utcnow()
    channel = await make_group(session, bot, title="Canal", status=BotMemberStatus.RESTRICTED)
    channel.type, channel.is_active, channel.deactivated_reason = ChatType.CHANNEL, False, "by x"
    await session.flush()
    session.expunge_all()  # read back as the list page reads them, not the objects just written
    for group_id in (admin.id, channel.id):
        group = await session.get(Group, group_id)
        assert group is not None
        built = GroupRead.of(group)
        validated = GroupRead.model_validate(built.model_dump())
        assert built == validated
        # Equal is not enough: a plain text equals the StrEnum member of the same value.
        assert {k: type(v) for k, v in built} == {k: type(v) for k, v in validated}
        assert built.model_dump_json() == validated.model_dump_json()
        assert [type(a) for a in built.abilities] == [type(a) for a in validated.abilities]
