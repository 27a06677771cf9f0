"""The overhead table of the recorder benchmarks (recorder_overhead.py, watch_overhead.py): settings timed in
alternating rounds against a bare "none" setting, judged on the median of each round's paired ratio."""

import statistics


def print_overhead_table(times: dict, targets: dict, width: int, extra_heading: str = "",
                         extra: dict | None = None) -> bool:
    """Print one row per setting: median and fastest seconds, the paired overhead (median over rounds of setting /
    none of the same round), the overhead of the fastest runs, the target and whether it is met; extra_heading and
    extra ({setting: text}) add a column. Returns whether every target is met."""
    extra = extra or {}
    last = f" {extra_heading:>14}" if extra_heading else ""
    print(f"{'setting':<{width}} {'median s/epoch':>14} {'min':>7} {'overhead (paired)':>17} {'(of mins)':>9} "
          f"{'target':>8}{last}")
    met = True
    for name, seconds in times.items():
        paired = 100 * (statistics.median(t / base for t, base in zip(seconds, times["none"])) - 1)
        of_mins = 100 * (min(seconds) / min(times["none"]) - 1)
        target = targets.get(name)
        verdict = "" if target is None else ("met" if paired <= target else "NOT met")
        met &= target is None or paired <= target
        target_text = "" if target is None else f"<= {target:g} %"
        column = f" {extra.get(name, '-'):>14}" if extra_heading else ""
        print(f"{name:<{width}} {statistics.median(seconds):>14.3f} {min(seconds):>7.3f} {paired:>16.1f}% "
              f"{of_mins:>8.1f}% {target_text:>8}{column} {verdict}")
    return met
