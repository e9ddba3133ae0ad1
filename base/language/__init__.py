"""The general language layer, shared by every package: one tokeniser and normaliser
(`text`), one reader of money (`money`) and of quantities with units (`quantities`), and the
English word lists shoppers use in any shop (`general`, from `data/english.toml`).

Ingestion, the ranker's training queries and the turn reader all read text the same way, so
it sits in the bottom floor (`base`)."""
