"""learnscope in Jupyter: live training curves (LiveCurves, an anywidget) and figures of recorded runs (plot_run).
The lessons' results draw themselves with .plot() (learnscope.lessons.plots). Needs the notebook extra:
pip install 'learnscope[notebook]'. NiceGUI, the lab's toolkit, does not run inside Jupyter; this does.

    from learnscope.notebook import LiveCurves
    curves = LiveCurves("MNIST")
    curves                                   # shows the chart (the cell's last line)
    fit(model, loss, optimizer, x, y, callbacks=[curves.callback()])     # an engine model
    curves.follow(learnscope.watch(net, optimizer))                      # or a PyTorch one
"""

from learnscope.notebook.figures import plot_run
from learnscope.notebook.live import LiveCurves

__all__ = ["LiveCurves", "plot_run"]
