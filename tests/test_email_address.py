"""One rule for e-mail addresses: registers, the e-mails sent, a MAH's address agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from dhpc_gen.addresses import load_sources, make_mailing_list
from dhpc_gen.addresses.normalise import email as register_email
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.model import Email
from dhpc_gen.distribution.message import AddressError, mail_address
from dhpc_gen.email_address import EmailAddressError, parse_email

EXAMPLE = Path(__file__).resolve().parents[1] / "content" / "lemtrada-2019"

VALID = {
    # address as a register gives it → as the e-mail carries it
    "peggy@läkare.be": "peggy@xn--lkare-gra.be",
    "o'brien@clinic.example.ie": "o'brien@clinic.example.ie",
    "anna+dhpc@example.fi": "anna+dhpc@example.fi",
    "Matti.Virtanen@HUS.FI": "Matti.Virtanen@hus.fi",
    "hans@straße.de": "hans@xn--strae-oqa.de",  # IDNA 2008: ß is not "ss"
    "x@xn--lkare-gra.fi": "x@xn--lkare-gra.fi",
    "a!#$%&*/=?^_`{|}~-@example.com": "a!#$%&*/=?^_`{|}~-@example.com",
    "info@例え.テスト": "info@xn--r8jz45g.xn--zckzah",
}
UTF8_LOCAL = ["jörg@example.de", "ÖSCAR@example.be"]
"""RFC 6531: valid, sent only where the server supports SMTPUTF8."""
INVALID = [
    "not-an-email",
    "trent@exa mple.be",
    "jj@example.be, boss@example.be",
    "victor@example.be>, <x@evil.example",
    "mal@example.be\nBcc: victim@example.be",
    "a..b@example.fi",
    ".a@example.fi",
    "a.@example.fi",
    "a@example",
    "a@-example.fi",
    "a@ex_ample.fi",
    "a@1.2.3.4",
    "a@[192.0.2.1]",
    '"a b"@example.fi',
    "a@b@example.fi",
    "a(comment)@example.fi",
    "a\u200b@example.fi",
    "x" * 65 + "@example.fi",
    "a@" + "b" * 64 + ".fi",
]


@pytest.mark.parametrize(("given", "sent"), VALID.items())
def test_valid_addresses_pass_everywhere(given: str, sent: str) -> None:
    assert register_email(given) == given
    assert mail_address(given).addr_spec == sent
    assert TypeAdapter(Email).validate_python(given) == given


@pytest.mark.parametrize("given", UTF8_LOCAL)
def test_a_local_part_beyond_ascii_needs_smtputf8(given: str) -> None:
    assert register_email(given) == given
    assert parse_email(given).needs_smtputf8
    assert mail_address(given, smtputf8=True).username == given.partition("@")[0]
    with pytest.raises(AddressError, match="smtputf8 = true"):
        mail_address(given)


@pytest.mark.parametrize("given", INVALID)
def test_invalid_addresses_fail_everywhere(given: str) -> None:
    assert register_email(given) is None
    with pytest.raises(EmailAddressError):
        parse_email(given)
    with pytest.raises(AddressError):
        mail_address(given, smtputf8=True)
    with pytest.raises(ValidationError):
        TypeAdapter(Email).validate_python(given)


def test_mailing_list_keeps_accented_domains_and_apostrophes(tmp_path: Path) -> None:
    """The register's valid addresses stay on the list, and the person gets the e-mail."""
    (tmp_path / "register.csv").write_text(
        "Etunimi;Sukunimi;Sähköposti\n"
        "Peggy;Pe;peggy@läkare.be\n"
        "Seán;O'Brien;o'brien@clinic.example.ie\n"
        "Trent;Tr;trent@exa mple.be\n",
        encoding="utf-8",
    )
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - name: Rekisteri\n    path: register.csv\n    columns:\n"
        "      Etunimi: first_name\n      Sukunimi: last_name\n      Sähköposti: email\n",
        encoding="utf-8",
    )
    mailing = make_mailing_list(
        load_dhpc(EXAMPLE), load_sources(tmp_path / "sources.yaml"), audience=None
    )
    assert sorted(r.email for r in mailing.recipients) == [
        "o'brien@clinic.example.ie",
        "peggy@läkare.be",
    ]
    assert [r.reason for r in mailing.rejects] == ["invalid-email"]
