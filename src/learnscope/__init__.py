"""learnscope: see how a neural network learns. A from-scratch NumPy engine, real data, a recorder
and a browser lab."""

__version__ = "0.1.0"
