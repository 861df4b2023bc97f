"""Which approved version of each language a distribution carries.

Before letters are merged or sent, ``versions.json`` in the output folder records, for
the content version being distributed (its ``content_sha256``, the key of the send
journal and the print manifest), each language's content hash and the sign-off entry
that approves it. The e-mails carry the same in their headers, and the distribution
record names it for every recipient, months later, whatever the content is by then.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from dhpc_gen.approval.state import approval_states
from dhpc_gen.build import content_hash
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.fsutil import OutputSet

VERSIONS_FILE = "versions.json"


@dataclass(frozen=True)
class LetterVersion:
    """One language of one content version, and its approval if it has one."""

    language: str
    language_sha256: str
    approval: str
    """The hash of the sign-off entry approving it; empty when not approved."""
    approved_by: str
    approved_at: str
    entry: int = 0
    """The approving entry's number in the log (0: none)."""

    @property
    def header(self) -> str:
        """``X-DHPC-Approval``: ``entry 2 <the first 32 hex digits of its hash>``, or ``none``.

        Short enough for one line: a folded header reads back with a leading space.
        """
        return f"entry {self.entry} {self.approval[:32]}" if self.approval else "none"


def letter_versions(dhpc: Dhpc) -> dict[str, LetterVersion]:
    """Each language's current version and approval (raises on a damaged sign-off log)."""
    out = {}
    for state in approval_states(dhpc):
        approval = state.approval if state.approved else None
        out[state.language] = LetterVersion(
            state.language,
            state.content_sha256,
            approval.hash if approval is not None else "",
            approval.who if approval is not None else "",
            approval.time if approval is not None else "",
            approval.seq if approval is not None else 0,
        )
    return out


def read_versions(out_dir: Path) -> dict[tuple[str, str], LetterVersion]:
    """(content_sha256, language) → version, from ``versions.json`` (empty if none)."""
    path = out_dir / VERSIONS_FILE
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DhpcError(f"{display_path(path)}: not a versions file ({exc})") from None
    out = {}
    try:
        for chash, languages in document["versions"].items():
            for language, item in languages.items():
                out[(chash, language)] = LetterVersion(**item)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DhpcError(f"{display_path(path)}: not a versions file ({exc})") from None
    return out


def record_versions(dhpc: Dhpc, out_dir: Path) -> dict[str, LetterVersion]:
    """Add the current version of every language to ``versions.json``; return them."""
    versions = letter_versions(dhpc)
    known = read_versions(out_dir)
    chash = content_hash(dhpc)
    for language, version in versions.items():
        known[(chash, language)] = version
    grouped: dict[str, dict[str, Mapping[str, str]]] = {}
    for (key, language), version in sorted(known.items()):
        grouped.setdefault(key, {})[language] = asdict(version)
    text = json.dumps({"dhpc": dhpc.id, "versions": grouped}, ensure_ascii=False, indent=2)
    path = out_dir / VERSIONS_FILE
    if not path.is_file() or path.read_text(encoding="utf-8") != text + "\n":
        with OutputSet(out_dir) as outputs:
            outputs.write_text(path, text + "\n")
    return versions
