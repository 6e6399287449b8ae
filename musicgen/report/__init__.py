"""The evaluation report: its numbers, figures and HTML page."""
