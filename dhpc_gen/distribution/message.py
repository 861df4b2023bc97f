"""The e-mail that carries a DHPC to one recipient, in the recipient's language.

Subject and bodies (plain text and HTML) come from ``templates/email/`` and the gettext
catalogs, with the letter's own wording (title, summary, contact points, signatories)
taken from the content, so the e-mail never says something the letter does not.

Messages are plain ASCII on the wire by default (RFC 2047 encoded names and subjects,
quoted-printable or base64 bodies, IDNA domains), so any server takes them; addresses
whose local part is not ASCII need ``smtputf8`` in the SMTP settings. The Message-ID is
derived from the DHPC id, the content hash and the recipient id: a duplicate of the same
letter to the same person carries the same Message-ID and is recognisable.

What comes back can be matched: each message has a token of its own (from its Message-ID
and the address it goes to), sent as the DSN envelope id (``ENVID``) and, with ``verp`` in
the settings, in its return path (``bounces+<token>@…``). With a DKIM key in the settings
every message is signed (:mod:`.dkim_signing`).

``Auto-Submitted: auto-generated`` (RFC 3834) says that no person sent the message, so
out-of-office replies are not sent back; there is no ``Precedence`` and no
``List-Unsubscribe`` header: a DHPC is a one-off safety notice, not a list or marketing
(docs/send.md says why).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime, parseaddr
from functools import cached_property
from pathlib import Path
from typing import cast

import jinja2
from markupsafe import Markup

from dhpc_gen.addresses.recipients import Recipient
from dhpc_gen.approval.sent import LetterVersion
from dhpc_gen.content.markup import plain_text, render_inline
from dhpc_gen.content.model import Dhpc
from dhpc_gen.distribution.dkim_signing import DkimSigner
from dhpc_gen.distribution.smtp import SmtpConfigError, SmtpSettings
from dhpc_gen.email_address import EmailAddressError, parse_email
from dhpc_gen.errors import DhpcError, RenderError
from dhpc_gen.i18n import N_, Boilerplate
from dhpc_gen.render.environment import install_boilerplate
from dhpc_gen.render.letter import (
    PersonView,
    compose_title,
    letter_boilerplate,
    letter_view,
    localised_sources,
)
from dhpc_gen.resources import LOCALES_DIR, TEMPLATES_DIR

EMAIL_TEMPLATES = ("email/subject.txt", "email/body.txt", "email/body.html")


class AddressError(DhpcError):
    """An e-mail address that cannot be sent to (as given, or without SMTPUTF8)."""


def message_id(dhpc_id: str, content_hash: str, recipient_id: str, domain: str) -> str:
    """The same for every copy of one DHPC version to one recipient."""
    digest = hashlib.sha256(f"{dhpc_id}\0{content_hash}\0{recipient_id}".encode()).hexdigest()
    return f"<{digest[:32]}@{domain}>"


TOKEN_LENGTH = 24
"""Hex digits of a message's token: 96 bits, unique among any number of messages."""


def delivery_token(message_id: str, address: str) -> str:
    """The token of one message to one address (the same letter to a new address has another)."""
    digest = hashlib.sha256(f"{message_id}\0{address.lower()}".encode()).hexdigest()
    return digest[:TOKEN_LENGTH]


def _clean_name(name: str) -> str:
    """A display name on one line (a hostile mailing list cannot add headers)."""
    return " ".join(name.split())


def mail_address(value: str, *, smtputf8: bool = False, name: str = "") -> Address:
    """Check an address and return it as a header would carry it (IDNA domain).

    The rule is the tool's one (:mod:`dhpc_gen.email_address`). Raises
    :class:`AddressError` with the reason when it cannot be used: not an address, or a
    part before ``@`` beyond ASCII without ``smtputf8``.
    """
    try:
        parsed = parse_email(value)
    except EmailAddressError as exc:
        raise AddressError(str(exc)) from None
    if parsed.needs_smtputf8 and not smtputf8:
        raise AddressError(
            f"{value!r}: the part before @ is not ASCII; sending it needs smtputf8 = true "
            "in the SMTP settings and a server that supports SMTPUTF8"
        )
    return Address(
        display_name=_clean_name(name), username=parsed.local, domain=parsed.ascii_domain
    )


@dataclass(frozen=True)
class MailView:
    """Everything the e-mail templates show, already in the recipient's language."""

    language: str
    draft: bool
    name: str
    """The recipient's name on one line; empty: greet with ``salutation``."""
    salutation: str
    salutation_html: Markup
    title: str
    title_html: Markup
    heading: str
    """The country's own name for the letter ("Rote-Hand-Brief"), empty if it has none."""
    companies: str
    authorities: str
    products: str
    filename: str
    summary: tuple[str, ...]
    summary_html: tuple[Markup, ...]
    contacts: tuple[str, ...]
    signatories: tuple[PersonView, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class MailText:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class ComposedMessage:
    """A message ready for the wire, and what the journal needs to know of it."""

    recipient_id: str
    envelope_to: str
    message_id: str
    data: bytes
    envelope_from: str = ""
    """``MAIL FROM``: the bounce address, with the token in it under ``verp``."""
    token: str = ""
    """Sent as the DSN envelope id; bounces name it."""


def make_mail_environment(templates_dir: Path = TEMPLATES_DIR) -> jinja2.Environment:
    """Escaping for ``.html`` only; a missing variable is an error, never an empty string."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _tidy_text(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


class MessageComposer:
    """Builds the message of each recipient of one DHPC version."""

    def __init__(
        self,
        dhpc: Dhpc,
        content_hash: str,
        settings: SmtpSettings,
        *,
        templates_dir: Path = TEMPLATES_DIR,
        versions: Mapping[str, LetterVersion] | None = None,
        locales_dir: Path = LOCALES_DIR,
    ) -> None:
        self.dhpc = dhpc
        self.content_hash = content_hash
        self.versions = dict(versions or {})
        """Each language's version and approval, named in the headers."""
        self.settings = settings
        self._templates_dir = templates_dir
        self._locales_dir = locales_dir
        self._environments: dict[str, tuple[jinja2.Environment, Boilerplate]] = {}
        self._views: dict[str, MailView] = {}
        self._attachments: dict[tuple[str, str], MIMEPart] = {}
        self.policy = (email_policy.SMTPUTF8 if settings.smtputf8 else email_policy.SMTP).clone(
            cte_type="7bit"
        )

    @cached_property
    def signer(self) -> DkimSigner | None:
        """The DKIM signer of the settings; refuses a key that cannot sign for the sender."""
        s = self.settings
        if s.dkim_key_file is None:
            return None
        signer = DkimSigner(s.dkim_key_file, s.dkim_selector, s.dkim_domain or self.sender.domain)
        if not signer.covers(self.sender.domain):
            raise SmtpConfigError(
                f"dkim_domain {signer.domain} does not cover the From address's domain "
                f"{self.sender.domain}: receivers checking DMARC would treat the messages as "
                "not authenticated; sign with the From domain (or a domain above it)"
            )
        return signer

    @cached_property
    def sender(self) -> Address:
        """``From:``: the settings' sender, else the first MAH of the DHPC."""
        if self.settings.sender:
            name, addr = parseaddr(self.settings.sender)
            where = "'from' of the SMTP settings"
        else:
            mah = self.dhpc.meta.mahs[0]
            name, addr = mah.name, mah.email
            where = "the first MAH in dhpc.yaml"
        try:
            return mail_address(addr, smtputf8=self.settings.smtputf8, name=name)
        except AddressError as exc:
            raise AddressError(f"{where}: {exc}") from None

    @cached_property
    def envelope_from(self) -> str:
        """``MAIL FROM``: the bounce address (without a message's token)."""
        if self.settings.envelope_from:
            addr = parseaddr(self.settings.envelope_from)[1]
            return mail_address(addr, smtputf8=self.settings.smtputf8).addr_spec
        return self.sender.addr_spec

    def return_path(self, token: str) -> str:
        """``MAIL FROM`` of one message: ``local+token@domain`` under ``verp``."""
        if not self.settings.verp:
            return self.envelope_from
        local, _, domain = self.envelope_from.rpartition("@")
        local = local.split("+", 1)[0]
        if len(local) + 1 + len(token) > 64:
            raise SmtpConfigError(
                f"envelope_from {self.envelope_from}: the part before @ is too long for a "
                f"return path with a {len(token)}-character token (verp); at most "
                f"{63 - len(token)} characters"
            )
        return f"{local}+{token}@{domain}"

    def message_id(self, recipient_id: str) -> str:
        return message_id(
            self.dhpc.id, self.content_hash, recipient_id, self.settings.message_id_domain
        )

    def attachment_name(self, language: str) -> str:
        return f"{self.dhpc.file_stem}_{language}.pdf"

    def _environment(self, language: str) -> tuple[jinja2.Environment, Boilerplate]:
        if language not in self._environments:
            gettext = letter_boilerplate(self.dhpc, language, self._locales_dir)
            env = make_mail_environment(self._templates_dir)
            install_boilerplate(env, gettext)
            self._environments[language] = (env, gettext)
        return self._environments[language]

    def view(self, recipient: Recipient) -> MailView:
        """The language's view with this recipient's name and address sources."""
        used = [s.strip() for s in recipient.sources.split(";") if s.strip()]
        language = recipient.language
        return dataclasses.replace(
            self._language_view(language),
            name=_clean_name(recipient.full_name),
            sources=localised_sources(self.dhpc, language, used) if used else (),
        )

    def _language_view(self, language: str) -> MailView:
        if language in self._views:
            return self._views[language]
        dhpc = self.dhpc
        _, gettext = self._environment(language)
        letter = letter_view(dhpc, language, gettext)
        text = dhpc.text(language)
        products = ", ".join(
            f"{product.name} ({substance})"
            for product, substance in zip(dhpc.meta.products, text.active_substances, strict=True)
        )
        title = compose_title(dhpc, text)
        view = MailView(
            language=language,
            draft=letter.draft,
            name="",
            salutation=(
                plain_text(text.salutation)
                if text.salutation
                else gettext.text(N_("To healthcare professionals"))
            ),
            salutation_html=letter.salutation_html,
            title=plain_text(title),
            title_html=render_inline(title),
            heading=letter.heading.text if letter.heading is not None else "",
            companies=", ".join(mah.name for mah in dhpc.meta.mahs),
            authorities=", ".join(dhpc.meta.authorities),
            products=products,
            filename=self.attachment_name(language),
            summary=tuple(" ".join(plain_text(b).split()) for b in text.summary),
            summary_html=letter.summary,
            contacts=letter.contacts,
            signatories=letter.signatories,
            sources=(),
        )
        self._views[language] = view
        return view

    def _attachment(self, data: bytes, filename: str) -> MIMEPart:
        """The PDF part, encoded once for every message that carries the same file."""
        key = (hashlib.sha256(data).hexdigest(), filename)
        part = self._attachments.get(key)
        if part is None:
            if len(self._attachments) >= 16:
                self._attachments.clear()
            part = MIMEPart(policy=self.policy)
            part.set_content(
                data,
                maintype="application",
                subtype="pdf",
                disposition="attachment",
                filename=filename,
            )
            self._attachments[key] = part
        return part

    def render(self, recipient: Recipient) -> MailText:
        """Subject and bodies; refuses English boilerplate in another language's e-mail."""
        language = recipient.language
        if language not in self.dhpc.meta.languages:
            raise RenderError(
                f"recipient {recipient.recipient_id}: language {language!r} is not one of the "
                f"DHPC's languages ({', '.join(self.dhpc.meta.languages)})"
            )
        env, gettext = self._environment(language)
        mail = self.view(recipient)
        rendered = []
        for name in EMAIL_TEMPLATES:
            try:
                rendered.append(env.get_template(name).render(mail=mail))
            except jinja2.TemplateError as exc:
                raise RenderError(f"template {name}: {exc}") from exc
        if gettext.missing:
            raise RenderError(gettext.missing_message())
        subject, text, html = rendered
        return MailText(" ".join(subject.split()), _tidy_text(text), html)

    def compose(
        self, recipient: Recipient, attachment: bytes, *, when: dt.datetime
    ) -> ComposedMessage:
        """The whole message as bytes with CRLF line ends, ready for DATA or an .eml file."""
        to = mail_address(
            recipient.email, smtputf8=self.settings.smtputf8, name=recipient.full_name
        )
        mail = self.render(recipient)
        mid = self.message_id(recipient.recipient_id)
        msg = EmailMessage(policy=self.policy)
        msg["From"] = self.sender
        msg["To"] = to
        if self.settings.reply_to:
            name, addr = parseaddr(self.settings.reply_to)
            msg["Reply-To"] = mail_address(addr, smtputf8=self.settings.smtputf8, name=name)
        msg["Subject"] = mail.subject
        msg["Date"] = format_datetime(when.astimezone(dt.UTC))
        msg["Message-ID"] = mid
        # Sent by a program, not a person: no out-of-office replies (RFC 3834; Exchange's own
        # header too, which must not suppress delivery reports). No Precedence: "bulk" or
        # "list" would file a safety notice with newsletters.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "OOF, AutoReply"
        msg["X-DHPC-Id"] = self.dhpc.id
        # Short enough for the 64 hex digits to stay on one 78-character line.
        msg["X-DHPC-Hash"] = self.content_hash
        version = self.versions.get(recipient.language)
        if version is not None:
            # The approved version of the recipient's language, and the sign-off entry.
            msg["X-DHPC-Text"] = version.language_sha256
            msg["X-DHPC-Approval"] = version.header
        msg.set_content(mail.text)
        msg.add_alternative(mail.html, subtype="html")
        msg.make_mixed()
        part = self._attachment(attachment, self.attachment_name(recipient.language))
        msg.attach(cast(EmailMessage, part))  # typeshed wants the message class; any part works
        # After the parts: making a message multipart moves Content-* headers into a part.
        msg["Content-Language"] = recipient.language
        data = msg.as_bytes()
        if self.signer is not None:
            data = self.signer.sign(data)
        token = delivery_token(mid, to.addr_spec)
        return ComposedMessage(
            recipient.recipient_id, to.addr_spec, mid, data, self.return_path(token), token
        )
