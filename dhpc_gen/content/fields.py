"""Every translatable text field of a language file, by field path.

The field path (``summary[2]``, ``sections[1].paragraphs[0]``) is the one name a text
has everywhere: in validation messages, in ``dhpc check`` findings, in the review
document and as the XLIFF trans-unit id.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dhpc_gen.content.model import LanguageText


@dataclass(frozen=True)
class TextField:
    path: str
    text: str
    kind: str
    """What the text is: title, opening, bullet, paragraph, heading, name, boilerplate."""


def text_fields(text: LanguageText) -> Iterator[TextField]:
    """Yield every text of ``text`` in reading order."""
    for index, substance in enumerate(text.active_substances):
        yield TextField(f"active_substances[{index}]", substance, "name")
    yield TextField("key_message", text.key_message, "title")
    if text.title is not None:
        yield TextField("title", text.title, "title")
    if text.salutation is not None:
        yield TextField("salutation", text.salutation, "salutation")
    yield TextField("opening", text.opening, "opening")
    for index, paragraph in enumerate(text.introduction):
        yield TextField(f"introduction[{index}]", paragraph, "paragraph")
    for index, bullet in enumerate(text.summary):
        yield TextField(f"summary[{index}]", bullet, "bullet")
    if text.background_heading is not None:
        yield TextField("background_heading", text.background_heading, "heading")
    for index, paragraph in enumerate(text.background):
        yield TextField(f"background[{index}]", paragraph, "paragraph")
    for index, section in enumerate(text.sections):
        yield TextField(f"sections[{index}].heading", section.heading, "heading")
        for number, paragraph in enumerate(section.paragraphs):
            yield TextField(f"sections[{index}].paragraphs[{number}]", paragraph, "paragraph")
    for index, paragraph in enumerate(text.reporting):
        yield TextField(f"reporting[{index}]", paragraph, "paragraph")
    for index, contact in enumerate(text.contact_points):
        if contact.department is not None:
            yield TextField(f"contact_points[{index}].department", contact.department, "name")
    for index, title in enumerate(text.signatory_titles):
        yield TextField(f"signatory_titles[{index}]", title, "name")
    for index, source in enumerate(text.address_sources):
        yield TextField(f"address_sources[{index}]", source, "name")
    for msgid, override in sorted(text.boilerplate.items()):
        yield TextField(f"boilerplate[{msgid!r}]", override, "boilerplate")
