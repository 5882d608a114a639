"""The alerts center's pieces: what it shows for a view (data), its HTML (parts, shared
with reports and exports) and the live list with acknowledgements (panel). The page
itself is :mod:`ecc.ui.pages.alerts`."""
