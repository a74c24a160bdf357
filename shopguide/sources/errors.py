"""The error of a source file that cannot be used as a whole."""


class SourceError(Exception):
    """A source file cannot be used as a whole (the message says which file and the fix)."""
