"""`tgadmin import mongo DIR`: the previous system's `mongoexport` files into our tables, idempotent."""
