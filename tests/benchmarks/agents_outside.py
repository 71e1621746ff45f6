"""Agents defined outside recworld, for the tests that name them as ``module:Class``."""

import os
import signal
import sys

from recworld.agents.baselines import RandomAgent


class DyingAgent(RandomAgent):
    """Says why on stderr, then kills its own process (as an out-of-memory kill would)."""

    def choose(self, observation, allowed):
        print("DyingAgent: the GPU driver is gone", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)


NotAnAgent = object
