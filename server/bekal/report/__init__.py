"""The programme report (``bekal report``): the funnel, attendance, alerts and outcomes, as aggregates.

- :mod:`.data` -- the plain records and the :class:`~.data.ProgrammeData` interface a source implements;
- :mod:`.scenario` -- a scenario file as a source (``examples/report-2019.yaml``);
- :mod:`.fromstore` -- a bekal database as a source (decision log, matching jobs, monitoring store);
- :mod:`.build` -- the figures: people counted, cells under 3 suppressed, no ids;
- :mod:`.render` -- one self-contained HTML page (matplotlib charts as inline SVG, print CSS) and CSV.
"""
