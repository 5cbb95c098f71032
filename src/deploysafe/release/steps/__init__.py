"""The steps of every flow, one module each (see :mod:`.base` for what a step is)."""
