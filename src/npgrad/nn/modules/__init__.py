"""The layer classes of ``npgrad.nn`` (import them from ``npgrad.nn``)."""
