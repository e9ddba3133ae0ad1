"""The conversation: a turn read, routed and answered (`turn.py`), from parts built once
(`parts.py`) behind the public `Assistant` (`pipeline.py`); the readers of a turn
(`understanding/`), the replies' words and grounding, and the service console's suggestions
(`agent/`)."""
