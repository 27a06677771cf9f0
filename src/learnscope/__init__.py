"""learnscope: see how a neural network learns. A from-scratch NumPy engine, real data, a recorder
and a browser lab."""

__version__ = "0.1.0"


def watch(model, optimizer, store=None, every: int = 50, **options):
    """Record a PyTorch model's training into the run store (learnscope.bridge.watch.watch; needs the torch
    extra). Imported on first call, so that `import learnscope` never imports PyTorch."""
    from learnscope.bridge.watch import watch as watch_torch

    return watch_torch(model, optimizer, store=store, every=every, **options)
