"""Replies built from facts read as English whatever the catalog calls its kinds."""

from assistant.records import DialogueState


def test_one_result_reads_as_english():
    from assistant.wording import template_reply
    from ranking.rank import RankedItem
    from retrieval.lexicon import Lexicon
    from retrieval.schema import Product

    p = Product(id="l", title="Laptop", category="Computers/Laptops", price=999.0)
    state = DialogueState(categories=["laptops"])
    text = template_reply([RankedItem(product=p, score=1.0)], state, Lexicon.build([p]), ["Fast"])
    assert text.startswith("Here is 1 match for laptops:")
