"""The chunk threads' hand-off (seqnet.kernels.cpu.chunk_threads, spin_wait):
every chunk runs once, the caller never waits for a helper that took no
chunk, errors propagate, and the spin waits read what other threads write."""

import threading
import time

import numpy as np
import pytest
from numba import njit

from seqnet.kernels.cpu import chunk_threads
from seqnet.kernels.cpu.chunk_threads import new_state, run_chunks
from seqnet.kernels.cpu.spin_wait import (
    FINISHED,
    GATE,
    POSTED,
    STATE_ADDRESS,
    open_gate,
    wait_for_post,
    wait_for_value,
)


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    """Each test starts with a pool of its own (no helper left busy by another)."""
    monkeypatch.setattr(chunk_threads, "_pool", None)


@njit(nogil=True)
def _gated_sum(gate, values, out, i):
    """A stand-in chunk kernel: opens the gate, then writes its chunk."""
    open_gate(gate)
    s = 0.0
    for v in values:
        s += v
    out[i] = s + i


def test_wait_for_value_sees_a_write_from_another_thread():
    flags = new_state()
    assert not wait_for_value(flags, POSTED, 1, 1000)
    timer = threading.Timer(0.01, flags.__setitem__, (POSTED, 1))
    timer.start()
    deadline = time.monotonic() + 5
    while not wait_for_value(flags, POSTED, 1, 100_000):
        assert time.monotonic() < deadline
    timer.join()


def test_wait_for_post_publishes_the_count_then_waits_for_post_and_gate():
    flags, state = new_state(), new_state()
    # no post yet: the count of the last task is published all the same
    assert not wait_for_post(flags, state.ctypes.data, 3, 1, 100, 100)
    assert state[FINISHED] == 3
    flags[STATE_ADDRESS] = state.ctypes.data
    flags[POSTED] = 1
    assert wait_for_post(flags, 0, 0, 1, 100, 100)  # gate closed: waits, then goes
    assert state[FINISHED] == 3  # address 0: nothing published


def test_open_gate_sets_the_gate_and_ignores_an_empty_one():
    gate = new_state()
    _gated_sum(gate, np.ones(3), np.zeros(1), 0)
    assert gate[GATE] == 1
    _gated_sum(np.zeros(0, np.int64), np.ones(3), np.zeros(1), 0)  # no gate: no write


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n_chunks", [1, 2, 7])
def test_gated_chunks_each_run_once(threads, n_chunks):
    for _ in range(50):  # many calls: helpers are reused, spin and sleep between
        gate = new_state()
        out = np.full(n_chunks, -1.0)
        calls = []

        def work(i, slot):
            calls.append(i)
            _gated_sum(gate, np.arange(100.0), out, i)

        run_chunks(work, n_chunks, threads, gate)
        assert sorted(calls) == list(range(n_chunks))
        np.testing.assert_array_equal(out, 4950.0 + np.arange(n_chunks))


def test_caller_runs_every_chunk_when_no_helper_is_free():
    """Every helper busy (another caller, or not scheduled yet): the caller
    runs the chunks itself instead of waiting."""
    pool = chunk_threads._get_pool()
    pool.acquire(0)  # make sure the spin counts are measured
    helpers = pool.acquire(100)  # take every helper there is / may be
    try:
        slots = []
        run_chunks(lambda i, slot: slots.append(slot), 5, threads=3)
        assert slots == [0] * 5
    finally:
        for helper in helpers:
            helper.busy.release()


def test_caller_does_not_wait_for_a_helper_that_took_no_chunk(monkeypatch):
    """A helper that starts late (a busy machine) finds no chunk left; the
    caller returns without waiting for it."""
    started = threading.Event()
    release = threading.Event()
    original = chunk_threads._Helper.post

    def late_post(self, task, state):
        def late():
            started.set()
            release.wait(5)
            return task()
        original(self, late, state)

    monkeypatch.setattr(chunk_threads._Helper, "post", late_post)
    done = []
    start = time.monotonic()
    run_chunks(lambda i, slot: done.append(slot), 4, threads=2)
    elapsed = time.monotonic() - start
    release.set()
    assert done == [0, 0, 0, 0] and elapsed < 2
    assert started.wait(30)  # the helper did get the task, and ran it late


def test_an_error_stops_new_chunks_and_waits_for_started_ones():
    finished = []

    def work(i, slot):
        if i == 0:
            raise KeyError(i)
        time.sleep(0.01)
        finished.append(i)

    with pytest.raises(KeyError):
        run_chunks(work, 50, 2, None)
    count = len(finished)
    time.sleep(0.05)
    assert len(finished) == count < 50  # nothing ran after run_chunks returned


def test_concurrent_callers_share_the_helpers():
    errors = []

    def caller(k):
        try:
            for _ in range(30):
                out = np.zeros(6)
                gate = new_state()
                run_chunks(lambda i, slot: _gated_sum(gate, np.ones(10), out, i), 6, 2, gate)
                np.testing.assert_array_equal(out, 10.0 + np.arange(6))
        except BaseException as exc:  # kept for the main thread's assert
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert all(not t.is_alive() for t in threads)
