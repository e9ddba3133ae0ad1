"""The Gradio page: the shopper's chat (and, later, the agent console)."""
