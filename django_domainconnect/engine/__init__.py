"""The Domain Connect template engine: pure Python, no Django import anywhere below this package.

Public surface (stable; the Django layer and the CLI import only these names):

- ``types``: value objects shared with backends (``Record``, ``Template``, ``Plan`` …)
- ``errors``: the engine's exceptions (all subclass ``EngineError``)
- ``template``: ``parse_template`` (JSON text/bytes/dict → ``Template``)
- ``lint``: ``lint_template`` / ``lint_path`` → list of ``Finding``
- ``render``: ``render_records`` (variables, host rendering, record validation)
- ``plan``: ``plan_apply`` / ``plan_revert`` / ``names_needed``
- ``signatures``: canonical query, key-record parsing, RS256 verification
- ``cli``: the ``domainconnect`` console script
"""
