"""The course's grading harness: a pytest plugin, one concern per module (harness/README.md)."""
