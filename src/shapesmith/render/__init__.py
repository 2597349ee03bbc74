"""Renderers over results: text for people, JSON for programs. Nothing here computes shapes."""
