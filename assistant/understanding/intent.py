"""Patterns of English that say what a turn is for: small talk, a request outside the
shop, a comparison, an explicit cart request, a question about a shown item, what goes
with a shown item or what other shoppers looked at."""

from __future__ import annotations

import re

SMALLTALK = re.compile(
    r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|thanks?( you)?( so much)?|thank u|"
    r"cheers|bye|goodbye|see you|how are you|ok(ay)?|great|cool|nice|awesome|perfect)"
    r"[\s!.,?]*(there|again|a lot|bye|!|\.)*[\s!.?]*$",
    re.I,
)
OFF_TOPIC = re.compile(
    r"\b(weather|forecast|temperature outside|news|president|election|politic\w*|stock price|"
    r"recipe|joke|movie|film about|song|lyrics|capital of|translate|poem|homework|math|"
    r"bitcoin|crypto|(?:game|match) (?:score|result)s?|who won|horoscope|what time is it|"
    r"write (me )?(a|an) (essay|code|story|poem)|python code|meaning of life|restaurant)\b",
    re.I,
)
# Text that tries to steer the assistant (instructions, role markers): never read for
# constraints, whatever catalog words it holds.
INJECTION = re.compile(
    r"\b(?:ignore (?:your|all|the|previous|prior|any) ?\w* (?:instructions|rules)|"
    r"system prompt|you are now|pretend (?:to be|you are)|jailbreak|developer mode|"
    r"admin mode)\b|(?:^|\s)(?:system|assistant|user)\s*:|</?\s*\w+\s*>|<\|",
    re.I,
)
COMPARE = re.compile(
    r"\b(compare|comparison|difference|differ|versus|vs\.?|which (one )?is better|"
    r"side by side|better choice|which (?:one )?(?:is|has) (?:the )?\w+(?:er|est)|"
    r"which of (?:the|them|these|those)\b.*\?)",
    re.I,
)
# Only an explicit request puts something in the cart, whoever reads the turn: "add it",
# "put the second one in my basket", "I'll take it", "buy the first one" — never "I want
# to buy a <kind>" or "any <kind> then?".
CART = re.compile(
    r"\b(?:add|put|throw|pop)\b.*\b(?:cart|basket|trolley|order)\b"
    r"|^\s*(?:ok(?:ay)?|yes|great|perfect)?[,!.\s]*(?:please\s+)?add\b"
    r"|\b(?:i'?ll|i will|let me|i'd like to|i want to)\s+(?:take|buy|get|order)\s+"
    r"(?:it|that|this|them|those|these|one|the\s+\w+)\b"
    r"|^\s*(?:ok(?:ay)?|yes)?[,\s]*(?:buy|purchase|order|take|get)\s+(?:it|that|this|them|"
    r"the (?:first|second|third|fourth|fifth|last|cheaper|cheapest|\w+ one)|number|#)",
    re.I,
)
GOES_WITH = re.compile(
    r"\b(?:goes? (?:well )?with|go (?:well )?together|to go with|pairs? (?:well )?with|"
    r"match(?:es)? (?:it|this|that|them|these)|complete (?:the|my) (?:look|set|outfit)|"
    r"(?:wear|use|serve) (?:it |this |that )?with|accessor(?:y|ies) for)\b",
    re.I,
)
ALSO_VIEWED = re.compile(
    r"\b(?:what else (?:did|do) (?:other )?(?:people|shoppers|customers)|"
    r"(?:other )?(?:people|shoppers|customers) (?:also )?(?:looked at|look at|viewed|bought)|"
    r"others (?:also )?(?:looked at|viewed|bought)|"
    r"anything (?:else )?similar to (?:it|this|that))\b",
    re.I,
)
AVAILABILITY = re.compile(r"\b(come|comes|available|have|has|stock|in stock)\b", re.I)
QUESTION = re.compile(
    r"^\s*(is|are|does|do|can|will|what|what's|how|which|would|has|have|tell me)\b|\?\s*$",
    re.I,
)
ASKS_ABOUT = re.compile(r"^\s*(is|are|does|do|can|will|how|what|what's|has|have|tell me)\b", re.I)
LIKE_BUT = re.compile(r"\b(like|similar to)\b", re.I)
PRONOUN_REF = re.compile(r"\b(it|that one|this one|that|this|them|those|these|they)\b", re.I)
EXPLICIT_REF = re.compile(
    r"\b(first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th|#\d|number \d)\b", re.I
)
