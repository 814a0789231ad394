"""Marketplace platforms: each implements the small interface in base.py."""
