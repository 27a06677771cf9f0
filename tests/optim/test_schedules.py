"""Learning-rate schedules: values at chosen steps, configs, validation."""

import itertools
import json
import math

import pytest

from learnscope.optim import Constant, Cosine, Schedule, StepDecay, Warmup, get_schedule


def test_constant_is_one_everywhere():
    assert [Constant()(step) for step in (0, 1, 10**6)] == [1.0, 1.0, 1.0]


def test_step_decay_multiplies_by_gamma_every_step_size_steps():
    schedule = StepDecay(step_size=3, gamma=0.5)
    expected = {0: 1.0, 2: 1.0, 3: 0.5, 5: 0.5, 6: 0.25, 10: 0.125}
    assert {step: schedule(step) for step in expected} == pytest.approx(expected, rel=1e-12)


def test_cosine_goes_from_one_to_min_factor_then_stays():
    schedule = Cosine(total_steps=10, min_factor=0.1)
    assert schedule(0) == pytest.approx(1.0, rel=1e-12)
    assert schedule(5) == pytest.approx(0.55, rel=1e-12)  # halfway: the mean of 1 and min_factor
    assert schedule(2) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.2)), rel=1e-12)
    assert schedule(10) == pytest.approx(0.1, rel=1e-12)
    assert schedule(25) == pytest.approx(0.1, rel=1e-12)


def test_cosine_decreases_monotonically():
    schedule = Cosine(total_steps=50)
    values = [schedule(step) for step in range(51)]
    assert all(later < earlier for earlier, later in itertools.pairwise(values))
    assert values[-1] == pytest.approx(0.0, abs=1e-15)


def test_warmup_ramps_linearly_then_holds():
    schedule = Warmup(warmup_steps=4)
    assert [schedule(step) for step in range(6)] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0], rel=1e-12)


def test_warmup_then_follows_the_next_schedule_offset_by_warmup_steps():
    schedule = Warmup(warmup_steps=2, then=StepDecay(step_size=2, gamma=0.5))
    assert [schedule(step) for step in range(7)] == pytest.approx([0.5, 1.0, 1.0, 1.0, 0.5, 0.5, 0.25], rel=1e-12)
    cosine_after = Warmup(warmup_steps=3, then={"name": "cosine", "total_steps": 4})
    assert cosine_after(3) == pytest.approx(1.0, rel=1e-12)
    assert cosine_after(5) == pytest.approx(0.5, rel=1e-12)
    assert cosine_after(7) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize(
    "schedule",
    [Constant(), StepDecay(5, gamma=0.3), Cosine(100, min_factor=0.01), Warmup(10), Warmup(10, then=Cosine(90))],
)
def test_config_is_json_and_rebuilds_the_schedule(schedule):
    config = schedule.config()
    rebuilt = get_schedule(json.loads(json.dumps(config)))
    assert type(rebuilt) is type(schedule)
    assert rebuilt.config() == config
    assert [rebuilt(step) for step in range(0, 120, 7)] == [schedule(step) for step in range(0, 120, 7)]


def test_get_schedule_accepts_names_and_passes_schedules_through():
    assert isinstance(get_schedule("constant"), Constant)
    assert isinstance(get_schedule({"name": "Warmup", "warmup_steps": 3}), Warmup)
    cosine = Cosine(10)
    assert get_schedule(cosine) is cosine
    assert isinstance(cosine, Schedule)


@pytest.mark.parametrize(
    ("make", "error", "fragments"),
    [
        (lambda: StepDecay(0), ValueError, ["StepDecay expected step_size in [1, inf)", "got 0", "step_size=1000"]),
        (lambda: StepDecay(2.5), TypeError, ["step_size to be an int", "2.5", "step_size=1000"]),
        (lambda: StepDecay(10, gamma=0), ValueError, ["gamma in (0, 1]", "got 0", "such as 0.1"]),
        (lambda: StepDecay(10, gamma=2), ValueError, ["gamma", "got 2", "such as 0.1"]),
        (lambda: Cosine(0), ValueError, ["total_steps", "got 0", "total_steps=1000"]),
        (lambda: Cosine(10, min_factor=1.5), ValueError, ["min_factor in [0, 1]", "got 1.5", "Use 0"]),
        (lambda: Warmup(-1), ValueError, ["warmup_steps", "got -1", "warmup_steps=100"]),
        (lambda: Warmup(5, then=0.5), TypeError, ["then", "0.5", "then=Cosine"]),
        (lambda: get_schedule("cosin"), ValueError, ["got 'cosin'", "'cosine'?"]),
        (lambda: get_schedule("cosine"), TypeError, ["Cosine", "total_steps", "Accepted arguments"]),
        (lambda: get_schedule({"total_steps": 5}), ValueError, ["'name'", "total_steps", "'name': 'cosine'"]),
        (lambda: get_schedule(5), TypeError, ["get_schedule", "got 5", "'total_steps': 1000"]),
    ],
)
def test_bad_schedule_arguments_say_what_was_received_and_how_to_fix_it(make, error, fragments):
    with pytest.raises(error) as caught:
        make()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
