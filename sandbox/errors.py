"""Domain errors raised by services. Each carries a message written for the person
who caused it; views show it as it is."""


class DomainError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(DomainError):
    """The actor's role does not permit this action (HTTP 403)."""


class InvalidState(DomainError):
    """The object is not in a state that permits this action (HTTP 409)."""


class InvalidInput(DomainError):
    """The input itself is wrong (HTTP 400); ``field`` names the form field to attach it to."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
