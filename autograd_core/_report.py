"""The base of every derivative-check report (gradcheck's and the Tensor check's).

Its own module so that ``gradcheck`` (which hands array inputs to
``tensor_check``) and ``tensor_check`` (whose report extends this one) do not
import each other."""

from __future__ import annotations

from typing import Any

__all__ = ["CheckReport"]


class CheckReport:
    """What every derivative-check report has: ``rows`` with an ``ok`` flag;
    the report is truthy when every row passes."""

    rows: list[Any]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def failures(self) -> list[Any]:
        return [r for r in self.rows if not r.ok]
