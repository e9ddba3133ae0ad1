"""An address the customer types out ("my new address is 1234 Elm St, Springfield, IL,
62701"), read into the store's address fields. The state and country are spelled as the
store already spells them for that zip code and city ("Texas" → "TX"), else as typed; the
country, when not typed, is the customer's own."""

from __future__ import annotations

import re

from base.language.general import phrasings
from base.privacy import POSTCODE, STREET_TYPES

from .records import Address, Customer
from .store import OrderStore

_P = phrasings()
# a house number, up to four words, the word that ends a street's name
STREET_LINE = re.compile(
    rf"(?<![\w#])\d{{1,6}}[A-Za-z]?[ ](?:[A-Za-z'.-]{{1,30}}[ ]){{0,4}}?(?:{STREET_TYPES})\b\.?",
    re.IGNORECASE,
)
SECOND_LINE = _P.pattern("address_second_line")
ZIP = re.compile(rf"(?<![\w-]){POSTCODE}(?![\w-])")


def typed_address(text: str, customer: Customer, store: OrderStore | None) -> Address | None:
    """The first full address in `text`: a street line, then — comma-separated — an optional
    second line, the city, the state and the zip code. None without a city and zip code."""
    for street in STREET_LINE.finditer(text):
        rest = re.split(r"[\n;]|\.(?:\s|$)", text[street.end() :], maxsplit=1)[0]
        parts = [p.strip() for p in rest.split(",")]
        address = Address(address1=street.group(0).strip().rstrip("."))
        fields: list[str] = []
        for part in parts:
            if not part:
                continue
            if SECOND_LINE.match(part) and not address.address2 and not fields:
                address.address2 = part
                continue
            zip_code = ZIP.search(part)
            if zip_code:
                before = part[: zip_code.start()].strip()
                fields += [before] if before else []
                address.zip = zip_code.group(0)
                break
            fields.append(part)
        if not address.zip or not fields:
            continue
        address.city = fields[0]
        if len(fields) > 1:
            address.state = fields[1]
        elif len(words := address.city.split()) > 1 and words[-1].isupper():
            address.city, address.state = " ".join(words[:-1]), words[-1]  # "Denver CO"
        return _as_the_store_spells_it(address, customer, store)
    return None


def _as_the_store_spells_it(address: Address, customer: Customer, store) -> Address:
    neighbours = store.customers_by_zip(address.zip) if store else []
    known = [customer.address, *(c.address for c in neighbours)]
    same = [
        k for k in known if k.zip == address.zip and k.city.casefold() == address.city.casefold()
    ]
    if same:
        address.state = same[0].state
        address.country = address.country or same[0].country
    address.country = address.country or customer.address.country
    return address
