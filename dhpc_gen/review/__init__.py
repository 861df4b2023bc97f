"""Translation review: the checks of ``dhpc check`` and the side-by-side review document.

Modules: ``findings`` (what a check reports), ``checks`` (one function per check id),
``termbase``, ``align``, ``extract``, ``report`` (the review document), ``thumbnails``.
Nothing is imported here so that ``dhpc --help`` stays fast.
"""

from __future__ import annotations
