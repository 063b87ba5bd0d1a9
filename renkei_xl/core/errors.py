"""Errors the staff can cause and fix: shown as a Japanese message, never a traceback."""


class UserError(Exception):
    """A problem with the user's input or files, with a Japanese message naming the place."""

    exit_code = 2


class UnreadableSheet(UserError):
    """A sheet the contract needs cannot be read at all (damaged XML, too large): the whole
    run is refused, since results computed without it would be wrong, not just incomplete."""
