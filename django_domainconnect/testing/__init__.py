"""Helpers for tests of this app and of host projects (not imported by the app itself)."""
