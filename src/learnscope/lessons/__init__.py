"""The experiments behind each lesson: plain functions the lab, the CLI and notebooks all call."""

from learnscope.lessons.race import optimizer_race, steps_to_reach
from learnscope.lessons.surfaces import SURFACES, get_surface

__all__ = ["SURFACES", "get_surface", "optimizer_race", "steps_to_reach"]
