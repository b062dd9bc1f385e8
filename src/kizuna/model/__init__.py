"""kizuna.model."""
