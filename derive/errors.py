"""One exception hierarchy, so the CLI can turn any user mistake into a one-line error."""


class DeriveError(Exception):
    """Base class for every error derive raises on purpose."""


class InputError(DeriveError):
    """A user-supplied option is malformed or out of range; the CLI exits with code 2."""

    def __init__(self, option: str, message: str):
        self.option = option
        self.message = message
        super().__init__(f"{option}: {message}")

    def __reduce__(self):
        """Picklable as it was made (a worksheet's worker process hands its errors back)."""
        return (type(self), (self.option, self.message))


class OutputError(DeriveError):
    """A file could not be written as asked (for example it exists and --force is absent)."""
