"""The experiments behind each lesson: plain functions the lab, the CLI and notebooks all call."""

from learnscope.lessons.batch_modes import compare_batch_modes
from learnscope.lessons.race import optimizer_race, steps_to_reach
from learnscope.lessons.surfaces import SURFACES, get_surface

__all__ = ["SURFACES", "compare_batch_modes", "get_surface", "optimizer_race", "steps_to_reach"]
