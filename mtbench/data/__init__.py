"""Test sets: descriptors (what to test) and loaders (where the text comes from)."""
