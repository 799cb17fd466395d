"""Vitrina templates (installed as pim.templates)."""
