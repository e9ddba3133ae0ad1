"""The personal data shapes shops see are redacted; product words that look alike are not."""

from __future__ import annotations

import pytest

from base.privacy import redacted, without_contact_details


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("my IBAN is GB29NWBK60161331926819", "[iban]"),
        ("IBAN: DE89 3704 0044 0532 0130 00", "[iban]"),
        ("ship the green tea to 221B Baker Street, London NW1 6XE", "[address]"),
        ("deliver to 12 Oak Lane 60612 please", "[address]"),
        ("I live at 5 Elm St.", "[address]"),
        ("born on 12/03/1985", "[birthdate]"),
        ("DOB: March 3rd, 1985", "[birthdate]"),
        ("date of birth 1985-03-12", "[birthdate]"),
    ],
)
def test_personal_data_is_redacted(text, tag):
    out, n = redacted(text)
    assert tag in out and n == 1


@pytest.mark.parametrize(
    "text",
    [
        "2 road bikes under $500",
        "size 10 trail running road shoes",
        "a 3 seat sofa for the living room",
        "IP68 WATERPROOF case",  # shaped like a bank account number, no valid check digits
        "Honeywell TH6220WF2006/U thermostat",
        "GB29NWBK60161331926818",  # one digit off: not an account number
        "10 cm\nThe production takes place in Germany",
        "a gift for someone born in the 80s",
    ],
)
def test_product_words_are_kept(text):
    assert redacted(text) == (text, 0)


def test_the_words_that_introduced_them_leave_too():
    text = (
        "green tea, ship it to 221B Baker Street, London NW1 6XE, my IBAN is GB29NWBK60161331926819"
    )
    assert without_contact_details(redacted(text)[0]) == "green tea,"
