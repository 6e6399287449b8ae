"""How generated music is judged: features, the style critic, originality, form and voice leading."""
