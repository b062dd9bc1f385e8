"""kizuna.store."""
