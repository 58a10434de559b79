"""Stubs of lumengate._core.gemini."""
