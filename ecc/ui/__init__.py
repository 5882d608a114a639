"""Building blocks of the dashboards: view state, components, charts and pages.

Notebooks call into this package and hold no logic of their own.
"""
