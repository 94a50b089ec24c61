"""QA: bad input gets a clear error, never a silent PASS or a silent result.

Findings: ``gradcheck(f, [np.ones(0)])`` printed "0 elements checked, 0
failed" and passed; ``T.where("abc", a, b)`` took the string as an all-True
mask.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_core.tensor as T
from autograd_core import Tensor, gradcheck, testing


@pytest.mark.parametrize("inputs", [[np.ones(0)], [np.ones(2), np.ones((0, 3))]])
def test_gradcheck_of_an_empty_array_refuses_instead_of_passing(inputs):
    with pytest.raises(ValueError, match="empty: nothing to check"):
        gradcheck(lambda *ts: sum((t.sum() for t in ts), Tensor(0.0)), inputs)
    with pytest.raises(ValueError, match="empty"):
        testing.assert_gradients_match(lambda *ts: sum((t.sum() for t in ts), Tensor(0.0)), inputs)


@pytest.mark.parametrize("mask", ["abc", np.array(["a", "b"]), None, object()])
def test_where_refuses_a_mask_that_is_not_booleans_or_numbers(mask):
    with pytest.raises(TypeError, match="mask must be an array of booleans"):
        T.where(mask, Tensor([1.0, 2.0]), Tensor([3.0, 4.0]))


def test_where_still_takes_bool_and_number_masks():
    a, b = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    np.testing.assert_array_equal(T.where([True, False], a, b).data, [1.0, 4.0])
    np.testing.assert_array_equal(T.where(np.array([0.0, 1.0]), a, b).data, [3.0, 2.0])
