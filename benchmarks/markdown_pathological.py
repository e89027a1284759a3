"""Time Mesa's Markdown rendering on pathological inputs at the maximum allowed length.

Python-Markdown is quadratic on some inputs; Mesa caps the length, defuses brackets and
raw HTML openers and falls back to plain paragraphs on deep nesting (consultations/markdown.py).
Target: every case under 200 ms. Run: .venv/bin/python benchmarks/markdown_pathological.py
"""
from __future__ import annotations

import platform
import time

from consultations.markdown import MAX_MARKDOWN_LENGTH, render_markdown

CASES = {
    "5,000 nested [": "[" * 5000,
    "[[[...]]] balanced": "[" * 2500 + "]" * 2500,
    "unclosed links [a](": "[a](" * 5000,
    "unclosed images ![a](": "![a](" * 4000,
    "5,000 nested >": ">" * 5000,
    "nested > with spaces": "> " * 10000,
    "nested lists 1.": "1. " * 7000,
    "nested lists -": "- " * 10000,
    "20,000 entities &amp;": "&amp;" * 4000,
    "numeric entities &#": "&#" * 10000,
    "unclosed tags <a": "<a " * 7000,
    "20,000 <": "<" * 20000,
    "escaped brackets \\[": "\\[" * 10000,
    "emphasis *a": "*a " * 7000,
    "table rows |-": "\n|-" * 7000,
    "reference links [x][y]": "[x][y]" * 3500,
    "many valid links": "[a](https://example.org) " * 800,
}


def main() -> None:
    print(f"Python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    worst = 0.0
    for name, text in CASES.items():
        text = text[:MAX_MARKDOWN_LENGTH]
        start = time.perf_counter()
        render_markdown(text)
        ms = (time.perf_counter() - start) * 1000
        worst = max(worst, ms)
        flag = "" if ms < 200 else "  <-- over 200 ms"
        print(f"{name:<28} {len(text):>6} chars {ms:8.1f} ms{flag}")
    print(f"worst: {worst:.1f} ms (target < 200 ms)")


if __name__ == "__main__":
    main()
