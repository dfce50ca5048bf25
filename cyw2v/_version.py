"""The package version, in one place: ``cyw2v.__version__``, the native files' ``cyw2v_version``,
``cyw2v --version`` and the wheel's metadata (pyproject.toml reads it) all come from here."""

__version__ = "0.1.0"
