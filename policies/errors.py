"""The error tree of the policies package.

::

    PolicyError                 policy_error
    └── PolicyInvalid           policy_invalid: a document, a change or a policy
                                breaks the model or a rule; ``problems`` lists
                                every ``(field_path, message)`` found

Field paths are dotted (``email.content_by_role.buyer``); an empty path means
the document as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PolicyError", "PolicyInvalid", "Problem"]

Problem = tuple[str, str]
"""``(field_path, message)``: where a policy is wrong and why, for humans."""


class PolicyError(Exception):
    """Root of every error the policies package raises on purpose."""

    code: str = "policy_error"


class PolicyInvalid(PolicyError):
    """A policy, a policy document or a change to a policy is not acceptable."""

    code = "policy_invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems) or [("", "invalid policy")]
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return "invalid policy: " + "; ".join(
            f"{path}: {message}" if path else message for path, message in self.problems
        )
