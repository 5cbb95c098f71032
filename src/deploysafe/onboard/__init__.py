"""Getting a project started: ``deploysafe init`` (a commented deploysafe.toml from what detection finds)
and ``deploysafe doctor`` (the machine and a target checked, a line each)."""
