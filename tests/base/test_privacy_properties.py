"""Generated personal data, of every shape redaction covers, inside shopper-like sentences:
none of it survives redaction, and the sentence's product words do."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from base.privacy import redacted

LETTERS, DIGITS = string.ascii_uppercase, string.digits
IBAN_SHAPES = {"GB": "AAAA" + "9" * 14, "DE": "9" * 18, "NL": "AAAA" + "9" * 10, "FR": "9" * 23}


@st.composite
def ibans(draw) -> str:
    country = draw(st.sampled_from(sorted(IBAN_SHAPES)))
    bban = "".join(
        draw(st.sampled_from(LETTERS if c == "A" else DIGITS)) for c in IBAN_SHAPES[country]
    )
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(digits) % 97
    compact = f"{country}{check:02d}{bban}"
    if draw(st.booleans()):  # written in groups of four
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


names = st.sampled_from(["Baker", "Oak", "Maple", "High", "Church", "Station", "Elm", "Park"])
street_types = st.sampled_from(["Street", "Road", "Lane", "Avenue", "Drive", "St", "Rd"])
streets = st.builds(
    lambda n, name, kind, tail: f"{n} {name} {kind}{tail}",
    st.integers(1, 9999).map(str),
    names,
    street_types,
    st.sampled_from(["", ", London NW1 6XE", ", Springfield 62701", " 60612"]),
)
emails = st.builds(
    lambda user, host: f"{user}@{host}.com",
    st.text(string.ascii_lowercase + ".", min_size=3, max_size=12).filter(
        lambda u: u[0] != "." and u[-1] != "." and ".." not in u
    ),
    st.text(string.ascii_lowercase, min_size=3, max_size=10),
)
phones = st.builds(
    lambda a, b, c: f"+1 {a} {b} {c}",
    st.integers(200, 999),
    st.integers(200, 999),
    st.integers(1000, 9999),
)
births = st.builds(
    lambda d, m, y, label: f"{label} {d:02d}/{m:02d}/{y}",
    st.integers(1, 28),
    st.integers(1, 12),
    st.integers(1930, 2010),
    st.sampled_from(["born", "born on", "date of birth", "DOB:"]),
)
pii = st.one_of(ibans(), streets, emails, phones, births)
openings = st.sampled_from(
    ["a green tea under $20", "running shoes size 10", "2 road bikes", "a 3 seat sofa"]
)
glue = st.sampled_from([", ship it to ", " — my details: ", ". Contact: ", ", I live at "])


@settings(max_examples=300, deadline=None)
@given(openings, glue, pii)
def test_generated_personal_data_never_survives(opening, joint, detail):
    out, n = redacted(f"{opening}{joint}{detail}.")
    assert n >= 1, (detail, out)
    assert opening in out  # the shopper's request stays whole
    for part in [detail, detail.replace(" ", "")]:
        assert part not in out, (detail, out)
