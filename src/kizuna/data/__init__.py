"""kizuna.data."""
