"""Redis as shared state: the connection, every key the daemon writes, and its Lua scripts."""
