"""Checks of the code itself, for developers (nothing here runs in the command center).

- :mod:`.layers`: ``python -m ecc.devtools.layers``, no import cycle between modules and
  no private name used across packages.
"""
