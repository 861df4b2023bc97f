"""Versions and approvals: what changed between two versions, and who approved which.

- :mod:`.diff` compares two versions of a DHPC field by field, word by word;
- :mod:`.git` reads earlier versions of a content folder from git;
- :mod:`.log` is the append-only, hash-chained sign-off log in the content folder;
- :mod:`.state` tells whether each language's current text is approved.
"""

from __future__ import annotations
