import numpy as np

from learnscope.lessons.series import thin_series


def test_short_series_pass_through_unchanged():
    xs, ys = thin_series([0, 1, 2], [3.0, 2.0, 1.0])
    assert xs == [0.0, 1.0, 2.0] and ys == [3.0, 2.0, 1.0]


def test_long_series_become_slice_means():
    xs, ys = thin_series(np.arange(1000), np.arange(1000) * 2.0, max_points=10)
    assert len(xs) == len(ys) == 10
    assert xs[0] == np.arange(100).mean() and ys[-1] == (np.arange(900, 1000) * 2.0).mean()


def test_non_finite_values_become_gaps():
    assert thin_series([0, 1], [np.nan, np.inf])[1] == [None, None]
