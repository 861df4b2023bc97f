"""Address sources → normalised, deduplicated mailing list in each recipient's language."""

from __future__ import annotations

from dhpc_gen.addresses.audience import Audience
from dhpc_gen.addresses.dedupe import DEFAULT_THRESHOLD
from dhpc_gen.addresses.mailing import (
    MailingList,
    mailing_dir,
    make_mailing_list,
    sources_used,
    write_mailing_list,
)
from dhpc_gen.addresses.sources import (
    SOURCES_FILE,
    AddressSource,
    SourceSet,
    default_sources_file,
    load_sources,
)
from dhpc_gen.addresses.suppression import SuppressionList, load_suppression

__all__ = [
    "DEFAULT_THRESHOLD",
    "SOURCES_FILE",
    "AddressSource",
    "Audience",
    "MailingList",
    "SourceSet",
    "SuppressionList",
    "default_sources_file",
    "load_sources",
    "load_suppression",
    "mailing_dir",
    "make_mailing_list",
    "sources_used",
    "write_mailing_list",
]
