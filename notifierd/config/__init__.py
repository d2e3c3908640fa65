"""Config repository: load YAML with positions, validate whole, build one frozen snapshot."""
