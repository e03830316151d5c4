"""Group discovery: bots cannot list their chats, so every group the platform knows comes from the
bot's own membership updates (and migrations) delivered to the running bot service."""

from __future__ import annotations

from tests.bot.conftest import BotWorld, Running, eventually
from tgadmin.models import Group
from tgadmin.models.enums import BotMemberStatus, ChatType


async def group_row(world: BotWorld, chat_id: int) -> Group | None:
    return await world.row(Group, Group.bot_id == world.record_id, Group.telegram_id == chat_id)


async def group_when(world: BotWorld, chat_id: int, status: BotMemberStatus) -> Group:
    async def probe() -> Group | None:
        row = await group_row(world, chat_id)
        return row if row is not None and row.bot_status == status else None

    return await eventually(probe)


async def test_bot_added_to_a_group_records_it_with_type_title_and_status(
    world: BotWorld, service: Running
) -> None:
    chat = await world.sandbox.create_chat("supergroup", "Promoções VIP", username="promo_vip")
    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="member")

    group = await group_when(world, chat, BotMemberStatus.MEMBER)
    assert (group.type, group.title, group.username) == (ChatType.SUPERGROUP, "Promoções VIP", "promo_vip")
    assert group.is_active
    assert not group.bot_is_admin


async def test_promotion_stores_the_admin_rights_and_demotion_drops_them(
    world: BotWorld, service: Running
) -> None:
    chat = await world.sandbox.create_chat("supergroup", "Vendas")
    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="member")
    await group_when(world, chat, BotMemberStatus.MEMBER)

    await world.sandbox.add_member(
        chat,
        bot_id=world.tg.id,
        status="administrator",
        rights={"can_delete_messages": True, "can_restrict_members": False},
    )
    promoted = await group_when(world, chat, BotMemberStatus.ADMINISTRATOR)
    assert promoted.bot_rights["can_delete_messages"] is True
    assert promoted.bot_rights["can_restrict_members"] is False
    assert promoted.bot_rights["can_invite_users"] is True

    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="member")
    demoted = await group_when(world, chat, BotMemberStatus.MEMBER)
    assert not demoted.bot_rights.get("can_delete_messages")
    assert demoted.is_active
    assert len(await world.rows(Group)) == 1


async def test_kicked_or_left_makes_the_group_inactive_and_re_adding_revives_it(
    world: BotWorld, service: Running
) -> None:
    chat = await world.sandbox.create_chat("group", "Clube")
    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="administrator")
    await group_when(world, chat, BotMemberStatus.ADMINISTRATOR)

    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="kicked")
    kicked = await group_when(world, chat, BotMemberStatus.KICKED)
    assert not kicked.is_active

    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="member")
    back = await group_when(world, chat, BotMemberStatus.MEMBER)
    assert back.is_active
    assert back.id == kicked.id


async def test_a_channel_is_recorded_as_a_channel(world: BotWorld, service: Running) -> None:
    chat = await world.sandbox.create_chat("channel", "Novidades")
    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="administrator")
    group = await group_when(world, chat, BotMemberStatus.ADMINISTRATOR)
    assert group.type == ChatType.CHANNEL
    assert group.bot_rights.get("can_post_messages") is True


async def test_a_group_upgraded_to_supergroup_is_followed_to_its_new_id(
    world: BotWorld, service: Running
) -> None:
    chat = await world.sandbox.create_chat("group", "Grupo antigo")
    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="administrator")
    await group_when(world, chat, BotMemberStatus.ADMINISTRATOR)

    new_id = await world.sandbox.migrate(chat)

    async def followed() -> Group | None:
        row = await group_row(world, new_id)
        return row if row is not None and row.is_active else None

    group = await eventually(followed)
    assert (group.type, group.title, group.bot_status) == (
        ChatType.SUPERGROUP,
        "Grupo antigo",
        BotMemberStatus.ADMINISTRATOR,
    )
    old = await group_row(world, chat)
    assert old is None or (not old.is_active and old.migrated_to_chat_id == new_id)
    active = [g for g in await world.rows(Group) if g.is_active]
    assert [g.telegram_id for g in active] == [new_id]


async def test_groups_are_kept_per_bot(world: BotWorld, service: Running) -> None:
    """The same chat seen by two of our bots is two rows; one bot leaving does not touch the other's."""
    from tests.bot.conftest import register_bot

    other = await world.sandbox.create_bot("other_shop_bot")
    other_id, _ = await register_bot(world.sessions, other)
    # The running service picks up a bot registered after start-up when its webhook is set.
    live = await service.service.bot(other_id)
    assert live is not None
    await service.service.set_webhooks()

    chat = await world.sandbox.create_chat("supergroup", "Dois bots")
    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="member")
    await world.sandbox.add_member(chat, bot_id=other.id, status="administrator")
    await world.sandbox.add_member(chat, bot_id=world.tg.id, status="left")

    async def others() -> Group | None:
        return await world.row(Group, Group.bot_id == other_id, Group.telegram_id == chat)

    theirs = await eventually(others)
    ours = await group_when(world, chat, BotMemberStatus.LEFT)
    assert theirs.is_active and theirs.bot_status == BotMemberStatus.ADMINISTRATOR
    assert not ours.is_active
