"""Reports (US-011, FR-7): the dashboard notebooks run with papermill for given
parameters, written as HTML (nbconvert, no code), PDF (headless Chromium) and Excel.

- :mod:`.params`: what a report is for (dates, comparison, filters) and its file names.
- :mod:`.execute`: papermill runs of the notebooks, two at a time, in report mode.
- :mod:`.document`: one self-contained HTML document with a cover.
- :mod:`.pdf`: the document printed to PDF by Chromium, with page numbers.
- :mod:`.excel`: the numbers behind the pages as a typed workbook.
- :mod:`.build`: ``ecc report``: all of the above for one notebook or the board pack.
"""
