"""Formats in and out of the content: one module per format, all writing through the
content editor (:mod:`dhpc_gen.content.editor`).

- :mod:`.xliff`: XLIFF 1.2 to and from translation vendors.
"""
