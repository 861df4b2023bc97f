"""The mailing list file ``recipients.csv``: the contract between mailing, merge and send.

One row per person. Cells that a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, tab or carriage return) are written with a leading ``'``;
:func:`read_recipients` removes it again, so letters and e-mails show the value as given.
"""

from __future__ import annotations

import csv
import hashlib
import io
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from dhpc_gen.addresses.normalise import fold, fold_tokens
from dhpc_gen.errors import DhpcError
from dhpc_gen.fsutil import atomic_write_text

RECIPIENTS_FILE = "recipients.csv"
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Recipient:
    """One person on the mailing list, in the language the letter is sent in."""

    recipient_id: str
    """Stable for the same person across runs (see :mod:`dhpc_gen.addresses.mailing`);
    letters, digits and '-' only (used in file names)."""
    language: str
    title: str
    first_name: str
    last_name: str
    profession: str
    specialty: str
    organisation: str
    street: str
    postal_code: str
    city: str
    country: str
    email: str
    sources: str
    """Names of the address sources the person came from, joined by '; '."""

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.title, self.first_name, self.last_name) if part)

    @property
    def has_postal_address(self) -> bool:
        return bool(self.street and self.postal_code and self.city)


COLUMNS = tuple(f.name for f in fields(Recipient))


def person_basis(first_name: str, last_name: str, country: str, postal_code: str) -> str:
    """The person without a register id: name words (case, accents, order aside), country,
    postal code. Never the e-mail address, which registers correct."""
    words = " ".join(sorted(fold_tokens(first_name) + fold_tokens(last_name)))
    return "\x1f".join(("person", words, country.upper(), fold(postal_code)))


def register_basis(source: str, register_id: str) -> str:
    """The person as a register knows them: the register's name and its own person id."""
    return "\x1f".join(("register", fold(source), " ".join(register_id.split()).casefold()))


def person_key(recipient: Recipient) -> str:
    """What the send journal keeps to know a recipient again under another id.

    16 hex digits of a hash of :func:`person_basis`: the same name in the same postal
    code (a register id added, a row merged differently) is recognised, and the journal
    holds no name.
    """
    basis = person_basis(
        recipient.first_name, recipient.last_name, recipient.country, recipient.postal_code
    )
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def neutralise(value: str) -> str:
    """Make a cell safe to open in a spreadsheet."""
    return f"'{value}" if value.startswith(_DANGEROUS) else value


def restore(value: str) -> str:
    """Undo :func:`neutralise`."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(_DANGEROUS):
        return value[1:]
    return value


def recipients_csv(recipients: Iterable[Recipient]) -> str:
    """The CSV text of a mailing list."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    values = operator.attrgetter(*COLUMNS)
    writer.writerows([neutralise(value) for value in values(r)] for r in recipients)
    return buffer.getvalue()


def write_recipients(path: Path, recipients: Iterable[Recipient]) -> None:
    """Write ``recipients.csv`` owner-readable only, whole or not at all."""
    atomic_write_text(path, recipients_csv(recipients), private=True)


def read_recipients(path: Path) -> Iterator[Recipient]:
    """Stream the rows of a ``recipients.csv`` (a folder means its ``recipients.csv``).

    A list saved again by a spreadsheet (UTF-8 with a BOM) reads as well; one that is
    not UTF-8 or not CSV any more is a :class:`DhpcError`, never a traceback.
    """
    if path.is_dir():
        path = path / RECIPIENTS_FILE
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise DhpcError(
            f"{path}: cannot read the mailing list: no such file; make it with "
            "dhpc mailing-list DIR, or name it with --mailing"
        ) from None
    except OSError as exc:
        raise DhpcError(f"{path}: cannot read the mailing list: {exc.strerror}") from exc
    with handle:
        try:
            yield from _rows(path, csv.DictReader(handle))
        except UnicodeDecodeError as exc:
            raise DhpcError(
                f"{path}: not UTF-8 at byte {exc.start}: write the mailing list with "
                "dhpc mailing-list, or save it as UTF-8 CSV"
            ) from None
        except csv.Error as exc:
            raise DhpcError(f"{path}: not a readable CSV file: {exc}") from None


def _rows(path: Path, reader: csv.DictReader[str]) -> Iterator[Recipient]:
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise DhpcError(f"{path}: not a mailing list, columns missing: {', '.join(missing)}")
    for number, row in enumerate(reader, start=2):
        if not row.get("recipient_id") or not row.get("language"):
            raise DhpcError(f"{path}:{number}: recipient_id and language are required")
        yield Recipient(**{key: restore(row.get(key) or "") for key in COLUMNS})
