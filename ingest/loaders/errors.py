class LoadError(Exception):
    """A file that cannot be indexed. The message is German: it is shown to admins as is."""
