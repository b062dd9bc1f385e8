"""Product exposure and compliance: from a bill of materials to the countries it depends on.

``compute.exposure`` (tonnes by mineral, stage and country), ``mixes`` (world, importer and
user mixes), ``rules`` (rule packs as data), ``report`` (figure and self-contained HTML).
See docs/exposure.md.
"""
