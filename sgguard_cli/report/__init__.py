"""``sgguard report``: the project's compliance, read through the API and judged as sg_drift judges it.

:mod:`.collect` reads the estate (paged listings) and computes each server's verdict and findings
with the sweep's own code; :mod:`.render` writes the same data as one self-contained HTML page,
JSON and CSV.
"""
