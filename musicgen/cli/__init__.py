"""The ``musicgen`` command line: small commands that hand off to the library."""
