"""Developer tools that ship with Mattebox (``python -m mattebox.tools.fuzz``)."""
