"""Helpers for testing Pyrene against the real kernel."""
