"""Stubs of lumengate._core.drift: drift statistics and detectors."""
