"""Vitrina locales (installed as pim.locales)."""
