"""The Gradio app: shopper chat and agent console."""
