"""Languages the check understands, each behind the interface in ``deploysafe.check.ecosystem``."""
