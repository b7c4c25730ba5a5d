"""Reads of the scorecard pages (see pages.py)."""
