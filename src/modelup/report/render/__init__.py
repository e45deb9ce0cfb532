"""Renderings of a report: terminal, HTML, Markdown, JUnit and charts."""
