"""What the formats in and out read from a content folder besides the file they write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from dhpc_gen.content.loader import META_FILE, line_of, read_yaml, validate_model
from dhpc_gen.content.model import DhpcMeta, LanguageText
from dhpc_gen.errors import ContentError, Problem, display_path

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ContentFolder:
    """What export and import read from ``content/<id>/`` besides the target file."""

    directory: Path
    meta: DhpcMeta
    source: LanguageText
    source_path: Path
    countries: tuple[str, ...] = ()
    """A campaign: the countries its shared language files go to."""


def validated(model: type[M], path: Path) -> M:
    """Read one YAML file into ``model`` or raise :class:`ContentError` with every problem."""
    shown = display_path(path)
    if not path.is_file():
        raise ContentError([Problem(shown, "", "missing")])
    data, problems = read_yaml(path, shown)
    if data is None:
        raise ContentError(problems)
    valid, problems = validate_model(model, data, shown)
    if valid is None:
        raise ContentError(problems)
    return valid


def read_folder(directory: Path, *, campaign: bool = False) -> ContentFolder:
    """``dhpc.yaml`` and the source language file, each valid on its own.

    ``campaign``: a campaign folder is read too (its shared languages; XLIFF); otherwise
    it is refused with a message saying so.
    """
    if not directory.is_dir():
        raise ContentError([Problem(display_path(directory), "", "no such content folder")])
    meta_path = directory / META_FILE
    data, _ = read_yaml(meta_path, display_path(meta_path))
    countries: tuple[str, ...] = ()
    if data is not None and "countries" in data:
        if not campaign:
            raise ContentError(
                [
                    Problem(
                        display_path(meta_path),
                        "countries",
                        "a campaign of several countries: Word export and import work on a "
                        "folder of one country (XLIFF works on a campaign's languages)",
                        line_of(data, ("countries",)),
                    )
                ]
            )
        meta, countries = _campaign_meta(directory)
    else:
        meta = validated(DhpcMeta, meta_path)
    source_path = directory / f"{meta.source_language}.yaml"
    source = validated(LanguageText, source_path)
    return ContentFolder(directory, meta, source, source_path, countries)


def _campaign_meta(directory: Path) -> tuple[DhpcMeta, tuple[str, ...]]:
    """A campaign's core as the facts a translation needs: id, source, languages, products.

    Only ``dhpc.yaml`` is read: a language can be exported before its file exists. The
    national facts (companies, signatories) are not in the shared language files.
    """
    from dhpc_gen.content.campaign import CampaignCore

    core = validated(CampaignCore, directory / META_FILE)
    languages = [core.source_language]
    for sent in core.countries.values():
        languages += [lang for lang in sent if lang not in languages]
    meta = DhpcMeta.model_construct(
        id=core.id,
        country="",
        languages=tuple(languages),
        source_language=core.source_language,
        products=core.products,
        mahs=(),
        signatories=(),
        status=core.status,
    )
    return meta, tuple(core.countries)
