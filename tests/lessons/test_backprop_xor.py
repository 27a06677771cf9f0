"""Backpropagation on XOR: the one-hidden-layer network reaches 100%, its hidden units and output are read as the
gates they compute, one hidden unit cannot do it, and One step opens this very network."""

import numpy as np
import pytest

from learnscope.data.toy2d import make_xor
from learnscope.lessons.backprop_xor import (
    PUBLISH_EVERY,
    describe_xor_network,
    network_at_start,
    output_picture,
    read_xor_network,
    train_xor,
    xor_setup,
)
from learnscope.lessons.playground import CLASS_COLORS, PlaygroundSession, PlaygroundSetup


@pytest.fixture(scope="module")
def solved():
    return train_xor(xor_setup())


def test_the_mlp_reaches_100_percent_on_xor(solved):
    x, y = make_xor(4)
    assert (solved.model.predict(x).argmax(axis=1) == y).all()
    assert solved.accuracy == 1.0 and solved.solved_epoch is not None and solved.solved_epoch < solved.epochs
    assert solved.losses[-1] < 0.05 < solved.losses[0]


def test_the_solved_network_reads_as_two_gates_combined_into_xor(solved):
    reading = read_xor_network(solved.model)
    assert reading.composes_xor and len(reading.units) == 2
    assert np.round(reading.output).tolist() == [0, 1, 1, 0]
    # each unit's firing is the side of its own line the corner lies on
    x, _ = make_xor(4)
    for unit in reading.units:
        assert list(unit.fires) == [int(unit.w[0] * a + unit.w[1] * b + unit.b > 0) for a, b in x]
    text = describe_xor_network(reading)
    assert "gives exactly XOR" in text and reading.output_gate in text
    assert not read_xor_network(network_at_start(xor_setup()).model).composes_xor      # untrained: not XOR yet


def test_one_hidden_unit_never_gets_all_four_corners():
    for seed in range(4):
        run = train_xor(xor_setup(seed=seed, hidden=1))
        assert run.accuracy <= 0.75
        assert read_xor_network(run.model).output_gate is None


def test_snapshots_come_every_few_epochs_and_a_stop_is_obeyed():
    seen = []
    run = train_xor(xor_setup(), epochs=200, on_epoch=seen.append, should_stop=lambda: len(seen) >= 3)
    assert [snapshot.epochs for snapshot in seen] == [PUBLISH_EVERY, 2 * PUBLISH_EVERY, 3 * PUBLISH_EVERY]
    assert run.epochs == 3 * PUBLISH_EVERY
    assert seen[0].model is not seen[1].model                              # snapshots, not the live model


def test_one_step_opens_this_very_network():
    setup = xor_setup(seed=4)
    assert PlaygroundSetup.from_query(setup.to_query()) == setup
    session = PlaygroundSession(setup)                                       # what /step?setup=... builds
    for mine, theirs in zip(network_at_start(setup).model.named_params(), session.model.named_params()):
        assert mine[0] == theirs[0] and np.array_equal(mine[1], theirs[1])
    corners = {tuple(point) for point in session.x_train.tolist()}
    assert corners == {(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)}   # XOR's corners, no noise


def test_the_picture_shows_class_1_where_xor_is_true(solved):
    picture = output_picture(solved.model, 64).astype(float)
    # the plane is [-1.8, 1.8]² with row 0 at the top: (-1, 1) is near row 14, column 14
    for (x1, x2), label in zip(*make_xor(4)):
        row, column = int((1.8 - x2) / 3.6 * 64), int((x1 + 1.8) / 3.6 * 64)
        distances = [np.abs(picture[row, column] - color).sum() for color in CLASS_COLORS[:2]]
        assert int(np.argmin(distances)) == label
