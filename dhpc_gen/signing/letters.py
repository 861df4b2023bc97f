"""``dhpc build --sign``: each final, approved letter signed as it is written."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from dhpc_gen.approval.state import approval_states, refusal_message
from dhpc_gen.build import BuiltLetter
from dhpc_gen.content.model import Dhpc
from dhpc_gen.fsutil import sha256_bytes
from dhpc_gen.signing.sign import SignedVersion, SigningError, SigningKey, sign_letter


@dataclass(frozen=True)
class LetterSigning:
    """How ``dhpc build`` signs: with this key, giving this reason."""

    key: SigningKey
    reason: str = ""
    location: str = ""

    def __call__(self, dhpc: Dhpc, letters: Sequence[BuiltLetter]) -> list[BuiltLetter]:
        return sign_letters(dhpc, letters, self)


def check_signable(dhpc: Dhpc) -> None:
    """Only a final letter is signed: a draft carries a watermark and is not for sending."""
    if dhpc.meta.status != "final":
        raise SigningError(
            f"{dhpc.directory / 'dhpc.yaml'}: status is {dhpc.meta.status}; only a final letter "
            "is signed (set status: final once the authorities have agreed the text)"
        )


def sign_letters(
    dhpc: Dhpc, letters: Sequence[BuiltLetter], signing: LetterSigning
) -> list[BuiltLetter]:
    """Each letter signed, naming its approved version; refuses a language not approved."""
    check_signable(dhpc)
    states = approval_states(dhpc, [letter.language for letter in letters])
    refused = [s for s in states if not s.approved]
    if refused:
        raise SigningError(refusal_message(dhpc, refused) + "\n  nothing was signed")
    signed = []
    for letter, state in zip(letters, states, strict=True):
        assert state.approval is not None
        version = SignedVersion(dhpc.id, letter.language, state.content_sha256, state.approval.hash)
        reason = signing.reason or (
            f"Approved text of {dhpc.id} ({letter.language}), content "
            f"{state.content_sha256[:12]}, sign-off entry {state.approval.seq}"
        )
        pdf = sign_letter(
            letter.pdf, signing.key, version, reason=reason, location=signing.location
        )
        signed.append(
            dataclasses.replace(
                letter,
                pdf=pdf,
                signature={
                    "signer": signing.key.name,
                    "reason": reason,
                    "content_sha256": state.content_sha256,
                    "approval": state.approval.hash,
                    "unsigned_sha256": sha256_bytes(letter.pdf),
                    "unsigned_bytes": len(letter.pdf),
                },
            )
        )
    return signed
