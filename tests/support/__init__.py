"""What the test suites share: paths, the people and courses every rule lets through, the server and the CLI
as subprocesses. Imported as ``tests.support.<module>`` (``tests`` is a package)."""
