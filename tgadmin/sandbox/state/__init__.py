"""The sandbox's world, in memory: bots, users, chats, messages, files, updates and the clock.

One `World` (world.py) per app; every read and write happens under `world.lock` without awaiting
inside it, so a Bot API call and a control call never see each other half-done.

Modules: world (the World, its clock, rate config and forced 429s), bots (bots, users, the update
queue, webhooks, callback queries), chats (chats, messages, stored files), members (statuses,
admin rights, permissions, invite links), payments (pre-checkout queries, Star charges).
"""
