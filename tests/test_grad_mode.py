"""Grad mode (``no_grad`` / ``enable_grad``) with generators, coroutines,
decorators and threads (issue 13 §2): the mode applies where it is written
and never leaks into the code that drives a suspended generator."""

from __future__ import annotations

import asyncio
import threading

import pytest

from autograd_core import Value, enable_grad, is_grad_enabled, no_grad


def records() -> bool:
    """Whether an operation made here records its parents (not just the flag)."""
    w = Value(2.0)
    return not (w * 3).is_leaf


def test_issue_reproduction_generator_suspended_inside_no_grad():
    def gen():
        with no_grad():
            yield 1

    w = Value(2.0)
    it = gen()
    next(it)
    (w * 3).backward()
    assert w.grad == 3.0  # was 0.0: the generator's block leaked into the caller
    assert is_grad_enabled()


def test_bare_block_in_generator_applies_inside_after_every_resume():
    def gen():
        with no_grad():
            yield records(), is_grad_enabled()
            yield records(), is_grad_enabled()
        yield records(), is_grad_enabled()

    it = gen()
    assert next(it) == (False, False)
    assert records() and is_grad_enabled()
    with enable_grad():  # the caller's block does not override the generator's
        assert next(it) == (False, False)
        assert records()
    assert next(it) == (True, True)  # after the block
    assert records()


def test_caller_block_applies_to_a_generator_without_one():
    def gen():
        while True:
            yield records()

    it = gen()
    assert next(it) is True
    with no_grad():
        assert next(it) is False
        assert not records()
    assert next(it) is True


def test_caller_block_closed_while_generator_is_suspended_in_its_own():
    def gen():
        with enable_grad():
            yield records()
            yield records()

    with no_grad():
        it = gen()
        assert next(it) is True
        assert not records()  # the caller's no_grad, not the suspended generator's block
    assert records()
    with no_grad():
        assert next(it) is True  # the generator's own enable_grad, resumed inside no_grad
        assert not records()
    assert records() and is_grad_enabled()
    with pytest.raises(StopIteration):
        next(it)
    assert records() and is_grad_enabled()


def test_generator_closed_or_dropped_inside_the_block():
    def gen():
        with no_grad():
            yield 1
            yield 2

    it = gen()
    next(it)
    it.close()
    assert records()
    it = gen()
    next(it)
    del it
    assert records() and is_grad_enabled()


def test_decorator_on_generator_function():
    @no_grad()
    def gen(n):
        for _ in range(n):
            got = yield records()
            assert got is None or got == "sent"
        return "done"

    it = gen(3)
    assert next(it) is False
    assert records()
    assert it.send("sent") is False
    assert records()
    assert next(it) is False
    with pytest.raises(StopIteration) as stop:
        next(it)
    assert stop.value.value == "done"
    assert list(gen(2)) == [False, False]


def test_decorator_without_parentheses_and_on_plain_function():
    @no_grad
    def f(x):
        return x * 2

    @enable_grad()
    def g(x):
        return x * 2

    x = Value(1.0)
    assert f(x).is_leaf
    assert f.__name__ == "f"
    with no_grad():
        assert not g(x).is_leaf
    with pytest.raises(TypeError, match="no_grad"):
        no_grad(3)


def test_decorated_generator_throw_and_close_pass_through():
    seen = []

    @no_grad()
    def gen():
        try:
            yield records()
        except ValueError:
            seen.append(("caught", records()))
            yield "after"
        finally:
            seen.append(("finally", records()))

    it = gen()
    next(it)
    assert it.throw(ValueError("x")) == "after"
    it.close()
    assert seen == [("caught", False), ("finally", False)]
    assert records()


def test_enable_grad_decorator_on_generator_inside_no_grad():
    @enable_grad()
    def gen():
        yield records()
        yield records()

    with no_grad():
        it = gen()
        assert next(it) is True
        assert not records()
        assert next(it) is True


def test_async_function_decorated_and_bare_block():
    @no_grad()
    async def decorated():
        a = records()
        await asyncio.sleep(0)
        return a, records()

    async def bare():
        with no_grad():
            await asyncio.sleep(0)
            return records()

    async def observer(flags):
        for _ in range(5):
            flags.append(records())
            await asyncio.sleep(0)

    async def main():
        flags: list[bool] = []
        r1, r2, _ = await asyncio.gather(decorated(), bare(), observer(flags))
        return r1, r2, flags

    r1, r2, flags = asyncio.run(main())
    assert r1 == (False, False) and r2 is False
    assert flags == [True] * 5  # the other task never saw no_grad
    assert records()


def test_coroutine_driven_by_hand_does_not_leak():
    @no_grad()
    async def co():
        await asyncio.sleep(0)
        return records()

    async def bare():
        with no_grad():
            await asyncio.sleep(0)
            return records()

    for make in (co, bare):
        c = make()
        c.send(None)  # suspended at the sleep
        assert records()
        with pytest.raises(StopIteration) as stop:
            c.send(None)
        assert stop.value.value is False
        assert records()


def test_async_generator_decorated():
    @no_grad()
    async def agen():
        for _ in range(3):
            got = yield records()
            await asyncio.sleep(0)
            assert got is None

    async def main():
        out = []
        async for v in agen():
            out.append((v, records()))
        return out

    assert asyncio.run(main()) == [(False, True)] * 3


def test_threads_have_their_own_mode():
    start = threading.Barrier(2)
    inside = threading.Event()
    done = threading.Event()
    seen: list[bool] = []

    def quiet():
        with no_grad():
            start.wait()
            inside.set()
            done.wait(5)

    def other():
        start.wait()
        inside.wait(5)
        seen.append(records())
        done.set()

    ts = [threading.Thread(target=quiet), threading.Thread(target=other)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert seen == [True]
    assert records()


def test_nested_blocks_and_reentered_instance():
    ng = no_grad()
    with ng:
        assert not records()
        with enable_grad():
            assert records()
            with ng:
                assert not records()
            assert records()
        assert not records()
    assert records()
