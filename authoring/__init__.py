"""Authoring tools: what instructors and CI run (authoring/README.md)."""
