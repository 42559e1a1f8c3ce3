"""Domain errors raised by services. Each carries a message written for the person
who caused it; views show it as it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


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
        self._each: list[InvalidInput] = [self]

    def __iter__(self) -> Iterator[InvalidInput]:
        """Each problem on its own (one, or every one an InputProblems gathered), so a
        form can put each beside its field."""
        return iter(self._each)

    @classmethod
    def together(cls, problems: list[InvalidInput]) -> InvalidInput:
        # The message of the whole reads every problem, for pages that show only one line.
        combined = cls(" ".join(problem.message for problem in problems), field=problems[0].field)
        combined._each = problems
        return combined


class InputProblems:
    """Runs each check of a form's input and gathers every InvalidInput, so the person
    hears of all of them at once instead of one per try.

        problems = InputProblems()
        note = problems.check(lambda: clean_note(note))
        scores = problems.check(lambda: clean_scores(scores))
        problems.raise_any()
    """

    def __init__(self) -> None:
        self.found: list[InvalidInput] = []

    def check(self, clean: Callable[[], T]) -> T | None:
        try:
            return clean()
        except InvalidInput as error:
            self.found.extend(error)
            return None

    def raise_any(self) -> None:
        if self.found:
            raise InvalidInput.together(self.found)
