"""Understanding a shopper's turn, from this catalog's own words.

words.py        the catalog's words as a phrase matcher (kinds, facet values, colours …)
catalog.py      what the reader asks of the catalog (counts, coverage, category paths)
prices.py       price bounds and relative prices, in any currency
quantities.py   numeric constraints with units
references.py   "the second one", "the first two"
removals.py     "any colour is fine", "forget the brand"
negation.py     what "not", "no", "without" reach
constraints.py  readings → hard constraints or free text
intent.py, intent_rules.py   what the turn asks for
unknown.py      words nobody knows; kinds the shop does not sell
read_turn.py    the deterministic reading, on one screen
llm_reader.py   the LLM's reading where the rules are unsure, merged with the rules'
llm_checks.py   every value of that reading checked against the shopper's words
clarify.py      the one clarifying question worth asking
"""

from .catalog import CatalogView
from .llm_reader import Interpretation, Interpreter
from .read_turn import read_turn
from .words import CatalogWords

__all__ = ["CatalogView", "CatalogWords", "Interpretation", "Interpreter", "read_turn"]
