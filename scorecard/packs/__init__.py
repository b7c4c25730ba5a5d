"""Board packs: the quarterly stocktake generated from the scorecard (issue 8).

`document` holds the pack as plain data, `build` assembles it from the database,
`formats` renders it as accessible HTML, PDF (WeasyPrint), XLSX and CSV.
"""
