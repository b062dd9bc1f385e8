"""kizuna.web."""
