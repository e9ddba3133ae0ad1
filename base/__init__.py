"""The floor every other package stands on: what all of them share and none of them owns —
the language layer (one tokeniser, one money and quantity reader, the English word lists in
`language/data/`), privacy (redaction and pseudonyms), the SQL stores' engine, and fault
injection for the crash tests. It imports no other Aisle package."""
