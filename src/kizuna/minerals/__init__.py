"""kizuna.minerals."""
