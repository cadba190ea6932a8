"""The one base class for errors a user can fix.

Anything raised as a :class:`UserError` carries a message written for office
staff (Vietnamese, one sentence, saying what to fix). The CLI prints it without
a traceback and exits non-zero; any other exception is a bug.
"""


class UserError(Exception):
    """An error caused by input the user can correct (a file, a code, a date)."""
