"""The base of every derivative-check report (gradcheck's and the Tensor check's)
and the one check of their tolerances.

Its own module so that ``gradcheck`` (which hands array inputs to
``tensor_check``) and ``tensor_check`` (whose report extends this one) do not
import each other."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["CheckReport", "check_tolerances"]


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


def check_tolerances(atol: Any, rtol: Any) -> None:
    """The one check of a derivative check's tolerances (a row passes when
    ``|analytic - numeric| <= atol + rtol * |numeric|``): non-negative finite
    numbers, and ``rtol`` below 1, since with ``rtol >= 1`` an analytic
    derivative of 0 passes for every numeric one (the check checks nothing).
    ``None`` stands for the caller's default."""
    for nm, tol in (("atol", atol), ("rtol", rtol)):
        if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float))
                                or not (0.0 <= tol < math.inf)):
            raise ValueError(f"{nm} must be a non-negative finite number, not {tol!r}")
    if rtol is not None and rtol >= 1.0:
        raise ValueError(f"rtol={rtol!r} is a relative tolerance of {100 * rtol:g}%: any analytic "
                         "derivative between 0 and twice the numeric one (0 included) would pass; "
                         "it must be below 1 (0.01 is 1%)")
