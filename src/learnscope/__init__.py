"""learnscope: see how a neural network learns. A from-scratch NumPy engine, real data, a recorder
and a browser lab.

The package root is a facade above every layer: it names the entry points a notebook reaches for first and
imports nothing heavy (learnscope.watch brings in PyTorch only when called)."""

from learnscope.core.version import __version__


def watch(model, optimizer, store=None, every: int = 50, **options):
    """Record a PyTorch model's training into the run store: learnscope.bridge.watch.watch (needs the torch
    extra)."""
    from learnscope.bridge.watch import watch as watch_torch

    return watch_torch(model, optimizer, store=store, every=every, **options)


__all__ = ["__version__", "watch"]
