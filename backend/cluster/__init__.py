"""What several instances share through Redis: presence, health, key names, Lua scripts.

Nothing here imports the `redis` package at module level except `presence`, which only the Redis
broker imports; `memory://` users never load it.
"""
