"""kizuna.intel: threat intelligence — STIX handling, feeds, matching, assets."""
