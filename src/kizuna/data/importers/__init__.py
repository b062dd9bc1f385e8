"""Importers: one module per public source, each reading the source's own file format."""
