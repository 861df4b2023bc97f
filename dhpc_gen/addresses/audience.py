"""Who the letter is for: profession and specialty values a recipient must have."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dhpc_gen.addresses.normalise import fold
from dhpc_gen.content.model import Audience as AudienceMeta
from dhpc_gen.errors import UsageError


@dataclass(frozen=True)
class Audience:
    """A row is in the audience when it matches every group that is not empty.

    ``professions`` are matched against the profession, ``specialties`` against the
    specialty, ``either`` against both (``--audience VALUE``). Values are compared
    case- and accent-insensitively, after the source's value maps.
    """

    professions: frozenset[str] = frozenset()
    specialties: frozenset[str] = frozenset()
    either: frozenset[str] = frozenset()

    @classmethod
    def from_meta(cls, meta: AudienceMeta | None) -> Audience | None:
        """The audience of dhpc.yaml, or None (everyone) when it names no values."""
        if meta is None or not (meta.professions or meta.specialties):
            return None
        return cls(_folded(meta.professions), _folded(meta.specialties))

    @classmethod
    def parse(cls, values: Sequence[str]) -> Audience:
        """``profession=X``, ``specialty=X`` or a bare ``X`` (profession or specialty)."""
        groups: dict[str, list[str]] = {"profession": [], "specialty": [], "": []}
        for value in values:
            key, sep, rest = value.partition("=")
            if not sep:
                key, rest = "", value
            key = key.strip().casefold()
            if key not in groups:
                raise UsageError(
                    f"--audience {value!r}: use profession=VALUE, specialty=VALUE or VALUE"
                )
            if not fold(rest):
                raise UsageError(f"--audience {value!r}: the value is empty")
            groups[key].append(rest)
        return cls(_folded(groups["profession"]), _folded(groups["specialty"]), _folded(groups[""]))

    def admits(self, profession: str, specialty: str) -> bool:
        """Whether a row with this profession and specialty is in the audience."""
        profession_key, specialty_key = fold(profession), fold(specialty)
        if self.professions and profession_key not in self.professions:
            return False
        if self.specialties and specialty_key not in self.specialties:
            return False
        return not self.either or bool({profession_key, specialty_key} & self.either)

    def describe(self) -> dict[str, list[str]]:
        return {
            "professions": sorted(self.professions),
            "specialties": sorted(self.specialties),
            "either": sorted(self.either),
        }


def _folded(values: Iterable[str]) -> frozenset[str]:
    return frozenset(fold(v) for v in values if fold(v))
