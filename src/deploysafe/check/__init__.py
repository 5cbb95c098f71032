"""The check core: scan → facts → resolve → graph → findings, knowing nothing of any one language.

``pipeline`` holds the named steps and the :class:`~deploysafe.check.pipeline.Report`; a language plugs in
as an ecosystem (``deploysafe.ecosystems``). ``deploysafe.check`` as called from the package root is the
pipeline's ``check()`` function.
"""
