"""The chunk threads' compiled hand-off (seqnet.kernels.cpu.chunk_threads,
spin_wait, operand_table): every chunk runs once, on thread numbers below
the thread count; the caller never waits for a helper that took no chunk;
a chunk that raises makes the pass raise; no helper holds a pass after it
returns; concurrent callers each get their own helpers."""

import threading
import time

import numpy as np
import pytest
from numba import cfunc

from seqnet.kernels.cpu import chunk_threads
from seqnet.kernels.cpu.chunk_threads import ChunkError, run_pass
from seqnet.kernels.cpu.operand_table import (
    CHUNK_SIGNATURE,
    array_cell,
    new_table,
    table_at,
    view,
)
from seqnet.kernels.cpu.spin_wait import SLOT, _pause, chunk_completed

#: Scalar cell of the stand-in's table: the chunk that raises (-1: none).
RAISE = 1


@cfunc(CHUNK_SIGNATURE, nogil=True)
def _stand_in(address, chunk, thread):
    """A chunk kernel: ``out[chunk] = sum(values) + chunk``, ``who[chunk] =
    thread``, after ``values.size`` spins; chunk ``RAISE`` raises (numba
    prints it and returns)."""
    t = table_at(address)
    values, out = view(address, 0, np.float64, 1), view(address, 1, np.float64, 1)
    who = view(address, 2, np.int64, 1)
    if chunk == t[RAISE]:
        np.empty(-1)  # a negative dimension: ValueError
    s = 0.0
    for v in values:
        _pause()
        s += v
    out[chunk] = s + chunk
    who[chunk] = thread
    chunk_completed(address)


def _table(n_chunks, work, raises=-1):
    """The stand-in's table and its arrays (kept alive by the caller)."""
    arrays = (np.arange(float(work)), np.full(n_chunks, -1.0),
              np.full(n_chunks, -1, dtype=np.int64))
    table = new_table(len(arrays))
    for i, a in enumerate(arrays):
        table[array_cell(i)], table[array_cell(i) + 1] = a.ctypes.data, a.shape[0]
    table[RAISE] = raises
    return table, arrays


def _pass(n_chunks, threads, work=100):
    """Run the stand-in over ``n_chunks`` chunks; returns (out, who)."""
    table, (_, out, who) = _table(n_chunks, work)
    run_pass(_stand_in.address, table, n_chunks, threads)
    return out, who


@pytest.fixture(autouse=True)
def fresh_pool(monkeypatch):
    """Each test starts with a pool of its own (no helper left busy by another)."""
    monkeypatch.setattr(chunk_threads, "_pool", None)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n_chunks", [1, 2, 7])
def test_every_chunk_runs_once(threads, n_chunks):
    work = sum(range(100))
    for _ in range(50):  # many passes: helpers are reused, spin and sleep between
        out, who = _pass(n_chunks, threads)
        np.testing.assert_array_equal(out, work + np.arange(n_chunks))
        assert who.min() >= 0 and who.max() < min(threads, n_chunks)
        if chunk_threads._pool is not None:  # no helper holds the finished pass
            assert np.all(chunk_threads._pool.mailboxes[:, SLOT] == 0)


def test_helpers_take_chunks():
    """Long chunks on two threads: the helper runs some of them."""
    seen = set()
    for _ in range(20):
        seen |= set(_pass(8, 2, work=20_000)[1].tolist())
    assert seen == {0, 1}


def test_a_sleeping_helper_is_woken_for_the_next_pass():
    """Between passes the helper outlasts its spin and sleeps; a later pass
    wakes it and it takes chunks again."""
    helped = 0
    for _ in range(10):
        time.sleep(0.01)  # far longer than IDLE_SPIN_S: the helper sleeps
        helped += 1 in set(_pass(8, 2, work=20_000)[1].tolist())
    assert helped >= 1


def test_caller_runs_every_chunk_when_no_helper_is_free():
    """Every helper busy (another caller): the caller runs the chunks itself."""
    pool = chunk_threads._get_pool()
    helpers = pool.acquire(100)  # take every helper there is / may be
    try:
        out, who = _pass(5, 3)
        assert np.all(who == 0) and np.all(out >= 0)
    finally:
        for helper in helpers:
            helper.busy.release()


def test_caller_does_not_wait_for_a_helper_that_took_no_chunk(monkeypatch):
    """A helper that is not running yet (a busy machine) finds its post
    withdrawn: the caller runs every chunk and returns without it."""
    release = threading.Event()
    real_serve = chunk_threads.serve

    def late_serve(mailbox, spins):
        release.wait(30)
        return real_serve(mailbox, spins)

    monkeypatch.setattr(chunk_threads, "serve", late_serve)
    monkeypatch.setattr(chunk_threads, "_Spins", lambda: type("S", (), {"idle": 10, "join": 10})())
    start = time.monotonic()
    out, who = _pass(4, 2, work=1000)
    elapsed = time.monotonic() - start
    release.set()
    assert np.all(who == 0) and elapsed < 5
    assert np.all(chunk_threads._pool.mailboxes[:, SLOT] == 0)  # the post was withdrawn


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # numba's report
@pytest.mark.parametrize("threads", [1, 2])
def test_a_chunk_that_raises_makes_the_pass_raise(threads):
    table, (_, out, who) = _table(6, 10, raises=4)
    with pytest.raises(ChunkError, match="1 of 6 chunks"):
        run_pass(_stand_in.address, table, 6, threads)
    assert np.all(out[:4] >= 0) and out[4] == -1.0 and out[5] >= 0  # the others ran
    out, who = _pass(3, threads)  # the helpers are free again
    assert np.all(who >= 0)


def test_concurrent_callers_share_the_helpers():
    errors = []

    def caller():
        try:
            for _ in range(30):
                out, who = _pass(6, 2)
                np.testing.assert_array_equal(out, sum(range(100)) + np.arange(6))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in threads)
