"""The fine-tuned ranking model, its features, training data and the event log (issue 4).
Until it lands, search results keep the hybrid retrieval order."""
