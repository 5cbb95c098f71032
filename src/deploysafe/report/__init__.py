"""Every renderer: what each command shows, for people and for machines. Nothing here decides anything.

- check (and ``graph``): :mod:`.text`, :mod:`.json`, :mod:`.sarif`, :mod:`.html` (one
  ``render(report) -> str`` each but text, which prints to a rich console), :mod:`.graph_formats` (dot,
  Mermaid and the HTML map's data)
- :mod:`.why`, :mod:`.pack` (pack and verify results), :mod:`.drift`, :mod:`.deploy` (step events,
  results, releases, status, for one target or a fleet), :mod:`.failure` (the one-screen report of a
  failed deploy step)

The engines return data (``Report``, ``PackResult``, ``DriftReport``, ``Result``); ``cli/`` parses the
arguments, picks a renderer and the exit code.
"""
