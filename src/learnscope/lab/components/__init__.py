"""Reusable lab widgets (charts, pictures, the network diagram, the drawing pad). They draw what they are
given; the numbers come from functions below lab/."""
