"""What a turn is for, as English says it: small talk, a request outside the shop, a
comparison, an explicit cart request, a question about a shown item, what goes with a shown
item or what other shoppers looked at. The patterns are data
(`base/language/data/phrasings.toml`)."""

from __future__ import annotations

from base.language.general import phrasings

_P = phrasings()
SMALLTALK = _P.pattern("smalltalk")
OFF_TOPIC = _P.pattern("off_topic")
INJECTION = _P.pattern("injection")
COMPARE = _P.pattern("compare")
CART = _P.pattern("cart")
GOES_WITH = _P.pattern("goes_with")
ALSO_VIEWED = _P.pattern("also_viewed")
AVAILABILITY = _P.pattern("availability")
QUESTION = _P.pattern("question")
ASKS_ABOUT = _P.pattern("asks_about")
LIKE_BUT = _P.pattern("like_but")
PRONOUN_REF = _P.pattern("pronoun_ref")
EXPLICIT_REF = _P.pattern("explicit_ref")
