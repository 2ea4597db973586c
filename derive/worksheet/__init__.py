"""Worksheets for a class: a spec, seeded hand-friendly variants, sheets, keys and blank answer files."""
