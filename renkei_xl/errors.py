"""Errors the staff can cause and fix: shown as a Japanese message, never a traceback."""


class UserError(Exception):
    """A problem with the user's input or files, with a Japanese message naming the place."""

    exit_code = 2
