"""The browser lab (NiceGUI): pages that show a network learning, each backed by tested functions below lab/.

`learnscope lab` starts it; `run_lab()` does the same from Python. Importing this package imports NiceGUI,
so the CLI imports it only when the lab is asked for.
"""

from learnscope.lab.app import register_pages, run_lab
from learnscope.lab.state import LabConfig, LabState, TrainedModel

__all__ = ["LabConfig", "LabState", "TrainedModel", "register_pages", "run_lab"]
