"""STIX 2.1: patterns, object validation, markings."""
