"""modelup's version: one place, read by the build (pyproject.toml) and by the tool."""

__version__ = "0.1.0"
