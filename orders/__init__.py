"""A shop's customers and orders, for the service console: the store (`store.py`), what it
holds (`records.py`), importing it (`importers.py`), who a conversation is about
(`identify.py`), the actions a shop allows and their rules (`rules.py`), and reading a
request into an exact action (`request.py`, `propose.py`)."""
