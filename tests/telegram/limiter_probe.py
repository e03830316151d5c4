"""A separate OS process taking limiter slots: `python -m tests.telegram.limiter_probe ARGS_JSON`.

Prints one JSON object: the reserved slot times (Redis server time) and the wall-clock times at
which this process was allowed to call.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from tgadmin.config import load_settings
from tgadmin.redis import client
from tgadmin.telegram.limiter import Limiter, Target


async def main(args: dict[str, object]) -> None:
    settings = load_settings(
        redis_prefix=str(args["prefix"]),
        tg_bot_per_second=int(str(args.get("bot_rate", 30))),
        tg_group_per_minute=int(str(args.get("group_rate", 20))),
    )
    redis = client(str(args["redis_url"]))
    limiter = Limiter(redis, settings, margin=float(str(args.get("margin", 0.0))))
    chat = args.get("chat_id")
    target = Target(int(str(args.get("bot_id", 1))), None if chat is None else int(str(chat)))
    # A barrier: start taking slots only when every probe process is up (start-up times vary a lot).
    barrier = f"{args['prefix']}:barrier"
    await redis.incr(barrier)
    while True:
        if int(await redis.get(barrier) or 0) >= int(str(args["processes"])):
            break
        await asyncio.sleep(0.01)
    slots, walls = [], []
    for _ in range(int(str(args["n"]))):
        slot = await limiter.acquire(target, max_wait=60)
        walls.append(time.time())
        slots.append(slot.at)
    await redis.aclose()
    print(json.dumps({"slots": slots, "walls": walls}))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
