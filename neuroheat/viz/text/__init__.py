"""The text engine: fonts (:mod:`.fonts`), HarfBuzz shaping and the Unicode bidi algorithm
(:mod:`.shaping`), line breaking and box placement (:mod:`.layout`) and glyph outlines or
embedded font subsets in SVG (:mod:`.glyphs`).

Example:
    >>> from neuroheat.viz.text import layout_tokens
    >>> lay = layout_tokens(["Hello", "world"], font_size=20)
    >>> [b.index for b in lay.boxes]
    [0, 1]
"""

from neuroheat.viz.text.fonts import FontStack, default_font_stack, font_stack
from neuroheat.viz.text.glyphs import GlyphWriter, xml_safe
from neuroheat.viz.text.layout import TextLayout, TokenBox, layout_tokens

__all__ = ["FontStack", "GlyphWriter", "TextLayout", "TokenBox", "default_font_stack",
           "font_stack", "layout_tokens", "xml_safe"]
