"""The embeddable chat widget: its static files, and the development demo pages."""
