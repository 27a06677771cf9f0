"""Sizes of sliding windows, shared by convolution and pooling."""

from learnscope.core.validation import check_int, describe


def as_pair(value, name: str, owner: str, minimum: int) -> tuple[int, int]:
    """An int n or a pair (h, w) of ints ≥ minimum, as a (h, w) tuple: 3 -> (3, 3)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(
                f"{owner} expected {name} to be an int or a pair (h, w), got {describe(value)}. "
                f"Pass e.g. {name}=3 or {name}=(3, 3)."
            )
        return tuple(check_int(v, name, owner, minimum=minimum) for v in value)
    size = check_int(value, name, owner, minimum=minimum)
    return (size, size)


def compact_pair(pair: tuple[int, int]):
    """(3, 3) -> 3 and (3, 5) -> [3, 5], for config() (JSON has no tuples); repr shows (3, 5)."""
    return pair[0] if pair[0] == pair[1] else list(pair)


def show_pair(pair: tuple[int, int]):
    """(3, 3) -> 3 and (3, 5) -> (3, 5), for repr."""
    return pair[0] if pair[0] == pair[1] else pair


def window_output_size(owner: str, input_hw, window, stride, padding=None, window_name="kernel_size"):
    """How many window positions fit along each axis: H' = (H + 2p - k) // s + 1 (same for W).
    padding=None for layers without padding (pooling)."""
    pad_h, pad_w = padding or (0, 0)
    padded = (input_hw[0] + 2 * pad_h, input_hw[1] + 2 * pad_w)
    if window[0] > padded[0] or window[1] > padded[1]:
        if padding is None:
            where, fix = f"the input {tuple(input_hw)}", f"Use a smaller {window_name} or larger images"
        else:
            where = f"the padded input {padded} (input {tuple(input_hw)}, padding {padding})"
            fix = f"Use a smaller {window_name}, more padding or larger images"
        raise ValueError(
            f"{owner} expected a {window_name} that fits in {where}, got {window_name}={window}. "
            f"{fix} (earlier pooling or strided layers shrink them)."
        )
    return ((padded[0] - window[0]) // stride[0] + 1, (padded[1] - window[1]) // stride[1] + 1)
