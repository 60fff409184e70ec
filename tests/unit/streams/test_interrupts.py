"""A Ctrl-C that lands while a service's child process is being spawned acts
only once the child is recorded (so `motcua run` stops it): the interrupt is
held, not lost, and not raised inside the spawn."""

from __future__ import annotations

import os
import signal
import time

import pytest

from streams.services import interrupts_deferred


def test_ctrl_c_is_held_until_the_block_ends() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt), interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)  # what a terminal's Ctrl-C sends
        time.sleep(0.2)  # Python would have raised here
        done.append("recorded")
    assert done == ["recorded"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nothing_happens_without_an_interrupt() -> None:
    with interrupts_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
