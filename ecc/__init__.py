"""Executive Command Center: every metric definition and query of the command center."""

from .errors import ConfigError, DataError, EccError, LoadError, SchemaError

__all__ = ["ConfigError", "DataError", "EccError", "LoadError", "SchemaError", "__version__"]

__version__ = "0.1.0"
