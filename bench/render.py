"""What rendering a message costs in the kernel: plain text, Markdown, code, and bombs.

    .venv/bin/python bench/render.py [--rounds 15] [--per-round 200]

Each kind of message is rendered by ``render_message`` (parse, render,
sanitize; what ``MessageList`` does once per message before caching it), with
fresh text every time (a counter in it) so no cache helps. Kinds are
interleaved within every round, so a noisy neighbour on a small machine hits
them all alike; the table shows each kind's median across rounds of the
per-message median, in microseconds, and its ratio to plain text. Bombs are
timed once per round (they are slow by design) and listed apart, along with
the cached path (what a second look at a message costs).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from directus_chat_widget.widget._markdown import MAX_MARKDOWN_CHARS, RenderCache, render_message


def plain(n: int) -> str:
    return f"see you at the station at {n % 24} o'clock, bring the tickets please"


def markdown(n: int) -> str:
    return f"**note {n}**: read [the docs](https://example.org/{n}) and *then* `pip install x`"


def code(n: int) -> str:
    return f"try this:\n```python\ndef f(x):\n    return x * {n}  # twice\n\nprint(f(2))\n```"


def math(n: int) -> str:
    return f"so $e^{{i\\pi}} + {n} = {n - 1}$ as you said"


KINDS: dict[str, Callable[[int], str]] = {
    "plain": plain,
    "markdown": markdown,
    "code": code,
    "math": math,
}

BOMBS: dict[str, str] = {
    "10,000 '>'": ">" * 10_000,
    "10,000 '['": "[" * 10_000,
    "'[a' x 6,000 then ']' x 6,000": "[a" * 6_000 + "]" * 6_000,
    "'*a' x 5,000": "*a" * 5_000,
    f"'[' x {MAX_MARKDOWN_CHARS:,} (at the limit)": "[" * MAX_MARKDOWN_CHARS,
    "100,000-char line (plain: over the limit)": "x" * 100_000,
    "100,000 '[' (plain: over the limit)": "[" * 100_000,
}


def per_message_us(make: Callable[[int], str], start: int, count: int) -> float:
    """The median cost of rendering ``count`` fresh messages of one kind."""
    samples = []
    for n in range(start, start + count):
        text = make(n)
        began = time.perf_counter_ns()
        render_message(text)
        samples.append((time.perf_counter_ns() - began) / 1000)
    return statistics.median(samples)


def once_ms(text: str) -> float:
    began = time.perf_counter_ns()
    render_message(text)
    return (time.perf_counter_ns() - began) / 1e6


def cached_us(count: int) -> float:
    cache = RenderCache()
    cache.html("k", markdown(0))
    began = time.perf_counter_ns()
    for _ in range(count):
        cache.html("k", markdown(0))
    return (time.perf_counter_ns() - began) / 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    args = parser.parse_args()

    for make in KINDS.values():  # warm up: imports, lexers, regex compiles
        per_message_us(make, 0, 20)
    kinds: dict[str, list[float]] = {name: [] for name in KINDS}
    bombs: dict[str, list[float]] = {name: [] for name in BOMBS}
    for round_ in range(args.rounds):
        start = (round_ + 1) * args.per_round
        for name, make in KINDS.items():
            kinds[name].append(per_message_us(make, start, args.per_round))
        if round_ % 3 == 0:  # bombs cost seconds in all: a third of the rounds
            for name, text in BOMBS.items():
                bombs[name].append(once_ms(text))

    base = statistics.median(kinds["plain"])
    print(f"Kernel render cost per message ({args.rounds} interleaved rounds, medians)\n")
    print(f"{'kind':12}{'us':>10}{'x plain':>10}")
    for name, values in kinds.items():
        value = statistics.median(values)
        print(f"{name:12}{value:10.1f}{value / base:10.1f}")
    print(f"{'cached':12}{cached_us(10_000):10.2f}   (any kind, seen before)")
    print(f"\nMarkdown bombs (once each per third round; medians, ms; plain = {base:.1f} us)\n")
    print(f"{'bomb':44}{'ms':>10}{'x plain':>12}")
    for name, values in bombs.items():
        value = statistics.median(values)
        print(f"{name:44}{value:10.1f}{value * 1000 / base:12,.0f}")


if __name__ == "__main__":
    main()
