"""The event codec (a piece <-> integer tokens) and its grammar: which token may follow which."""
