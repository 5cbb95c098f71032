"""Parse stage: bytes in, facts out, one module per language. Pure and cacheable by content."""
