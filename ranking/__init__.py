"""Ranking what retrieval found: the features and the LightGBM ranker fine-tuned per
catalog (`aisle train-ranker`), its training data (synthetic queries, the event log's
feedback), "also looked at" from co-engagement, and the event log itself. Without a trained
ranker, results keep the hybrid retrieval order."""
