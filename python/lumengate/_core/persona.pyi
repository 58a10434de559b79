"""Stubs of lumengate._core.persona."""

from typing import Any

# keys part





# router part





# scorer part
