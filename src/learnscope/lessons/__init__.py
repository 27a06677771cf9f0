"""The experiments behind each lesson: plain functions the lab, the CLI and notebooks all call."""
