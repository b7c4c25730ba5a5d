"""Indicator returns: read, check, preview, commit and roll back analysts' files.

Pure modules (no Django): readers, columns, numbers, parsing, diff, problems, reference.
Database modules: preview (reads), commit, rollback and jobs (writes); `indicators.services`
is the entry point the page, the command line and the API call.
"""
