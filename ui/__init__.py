"""The Gradio pages: the shopper's chat (`app.py`), the service console (`agent_app.py`), and
serving them (`serve.py`, `security.py`)."""
