"""Vitrina channels (installed as pim.channels)."""
