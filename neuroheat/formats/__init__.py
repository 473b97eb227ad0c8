"""Data formats shared by producers (attribution, analysis) and renderers (viz).

Pure Python and numpy, importing nothing else of neuroheat but its errors, so both sides can
depend on it without depending on each other: :mod:`~neuroheat.formats.tokens` (how a model
token is shown to a reader) and :mod:`~neuroheat.formats.textualheatmap` (textualheatmap's
facet data and its validator).

Example:
    >>> from neuroheat.formats.tokens import display_token
    >>> display_token("##ing")
    'ing'
"""
