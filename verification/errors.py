"""The one error type the CLI and fixtures turn into a single clear line."""


class UserError(Exception):
    """Bad input or a missing prerequisite: message names what is wrong and how to fix it."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
