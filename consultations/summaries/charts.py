"""Charts rendered on the server (matplotlib, Agg backend, no global pyplot state), so
the same picture appears on the page, in the Word file and in the PDF. Every chart
comes with a text alternative.

Titles, labels, numbers and text alternatives are in the file's language (the interface
language of the request). Matplotlib 3.11 lays text out with libraqm (HarfBuzz and
FriBidi), so Arabic is drawn shaped and right to left, in DejaVu Sans, which has the
Arabic letters.

Drawing costs about a second a chart, so a chart is drawn once and kept (issue 14): first
everything the picture shows is worked out (its *spec*: the values, and every label and
number already in the file's language), then the picture is looked up in a file cache
(``MESA_CHART_CACHE_DIR``, default ``instance/charts``, shared by every gunicorn worker and
by the job workers) under a key that is an HMAC (keyed by SECRET_KEY) of the spec, the
language, ``CHART_VERSION`` and matplotlib's version. The same summary viewed again reads
the file; new counts, other settings (a new revision) or another language give another
key, so another picture. Pages show a chart by URL (``/charts/<key>.png``, served with an
ETag and cached by the browser) rather than inlined, so a summary page stays small; the
Word and PDF files embed the same bytes. The key cannot be guessed or confirmed without
the secret, so the URL gives nothing away but to whom the page gave it."""
from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext

from ..i18n import current_locale
from ..reference import STAKEHOLDER_CATEGORIES, category_label

log = logging.getLogger(__name__)

# Change when the drawing code changes what a picture looks like: every chart is drawn again.
CHART_VERSION = 2

# Pictures not shown for this long are removed from the cache (looked at once an hour).
CACHE_MAX_AGE_SECONDS = 14 * 24 * 3600
_PRUNE_EVERY_SECONDS = 3600
_last_prune = 0.0

# Colour-blind-safe palette (Okabe-Ito and Tol), one colour per stakeholder category.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#332288", "#999999"]


@dataclass(frozen=True)
class Chart:
    """A chart: its key in the cache, text alternative and title; the picture (``png``) is
    read from the cache, or drawn from ``spec`` when it is not there."""

    key: str
    alt: str
    title: str
    spec: dict = field(repr=False, compare=False)
    _drawn_png: list = field(default_factory=list, repr=False, compare=False)

    @property
    def png(self) -> bytes:
        if not self._drawn_png:
            png = _read(self.key)
            if png is None:
                png = _render(self.spec)
                _write(self.key, png)
            self._drawn_png.append(png)
        return self._drawn_png[0]

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def url(self) -> str:
        """Where a page shows it (the picture is made now if it is not in the cache)."""
        from flask import url_for

        self.ensure()
        return url_for("summaries.chart", key=self.key)

    def ensure(self) -> None:
        """The picture is in the cache (drawn now if it was not)."""
        if self._drawn_png or _touch(self.key):
            return
        png = _render(self.spec)
        _write(self.key, png)
        self._drawn_png.append(png)


# -- the cache -------------------------------------------------------------------------------

def cache_dir() -> Path:
    configured = current_app.config.get("MESA_CHART_CACHE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "charts"


def valid_key(key: str) -> bool:
    return isinstance(key, str) and len(key) == 64 and all(c in "0123456789abcdef" for c in key)


def cached_path(key: str) -> Path | None:
    """The file of a cached picture, or None (unknown or malformed key)."""
    if not valid_key(key):
        return None
    path = cache_dir() / f"{key}.png"
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def _matplotlib_version() -> str:
    from importlib.metadata import version

    return version("matplotlib")


def _key(spec: dict) -> str:
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    payload = json.dumps(
        {"version": CHART_VERSION, "matplotlib": _matplotlib_version(), "spec": spec},
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    ).encode()
    return hmac.new(secret, b"mesa-chart\x00" + payload, hashlib.sha256).hexdigest()


def _read(key: str) -> bytes | None:
    try:
        return (cache_dir() / f"{key}.png").read_bytes()
    except OSError:
        return None


def _touch(key: str) -> bool:
    """True when the picture is cached; its time is renewed (so pruning keeps it)."""
    try:
        os.utime(cache_dir() / f"{key}.png")
        return True
    except OSError:
        return False


def _write(key: str, png: bytes) -> None:
    """Atomically (a worker reading it never sees half a file); a failure only logs:
    the picture is drawn again next time."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".chart-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(png)
            os.replace(tmp, folder / f"{key}.png")
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        log.warning("chart cache not written (%s): %s", folder, exc)
        return
    _prune(folder)


def _prune(folder: Path) -> None:
    global _last_prune
    now = time.time()
    if now - _last_prune < _PRUNE_EVERY_SECONDS:
        return
    _last_prune = now
    removed = 0
    for path in folder.glob("*.png"):
        try:
            if now - path.stat().st_mtime > CACHE_MAX_AGE_SECONDS:
                path.unlink()
                removed += 1
        except OSError:
            pass
    if removed:
        log.info("chart cache: %d pictures not shown for %d days removed", removed, CACHE_MAX_AGE_SECONDS // 86400)


# -- what a chart shows ------------------------------------------------------------------------

def _drawn(message: str, **variables) -> str:
    """Text drawn inside a picture, in the file's language."""
    return gettext(message, **variables)


def _count(value) -> int:
    """A published count for drawing: 0 when it is hidden (a reason, or None)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(n) -> str:
    from .exports import number

    return number(n)


def _percent(p) -> str:
    from .exports import percent

    return percent(p)


def _chart(spec: dict, alt: str, title: str) -> Chart:
    spec = {**spec, "language": current_locale()}
    return Chart(key=_key(spec), alt=alt, title=title, spec=spec)


def objectives_chart(meta: dict) -> Chart:
    """Contributions by GCM objective, stacked by stakeholder category."""
    rows = meta["by_objective"]
    threshold = meta["suppression"]["threshold"]
    numbers = [r["objective"] for r in rows]
    series = []
    bottom = [0] * len(rows)
    for colour, (key, label) in zip(PALETTE, STAKEHOLDER_CATEGORIES.items()):
        values = [_count(r["categories"].get(key)) for r in rows]
        if any(values):
            series.append({"label": _drawn(label), "colour": colour, "values": values})
            bottom = [b + v for b, v in zip(bottom, values)]
    # Categories whose count is not published (too small, or hidden to protect a small
    # one) are drawn together, in grey, as the rest of the objective's published total:
    # no more than the table already tells.
    rest = [max(_count(r["total"]) - b, 0) for r, b in zip(rows, bottom)]
    if any(rest):
        series.append({"label": _drawn("Categories not shown, combined"), "colour": "#BBBBBB", "values": rest})
    title = gettext("Contributions by GCM objective and stakeholder category")
    spec = {
        "chart": "objectives",
        "numbers": numbers,
        "series": series,
        "xlabel": _drawn("GCM objective"),
        "ylabel": _drawn("Contributions"),
        "title": _drawn("Contributions by GCM objective and stakeholder category"),
        "empty": _drawn("No contributions"),
    }
    parts = []
    for r in rows:
        if not isinstance(r["total"], int):
            if r["total"] == "complementary":
                parts.append(gettext("objective %(number)s: not published", number=r["objective"]))
            else:
                parts.append(gettext("objective %(number)s: fewer than %(t)s", number=r["objective"], t=threshold))
        elif r["total"]:
            cats = [f"{category_label(k)} {_number(v)}" for k, v in r["categories"].items() if _count(v)]
            shown_sum = sum(_count(v) for v in r["categories"].values())
            if shown_sum < r["total"]:
                cats.append(gettext("categories not shown together %(count)s", count=_number(r["total"] - shown_sum)))
            part = gettext("objective %(number)s: %(count)s", number=r["objective"], count=_number(r["total"]))
            parts.append(part + (f" ({', '.join(cats)})" if cats else ""))
    alt = (
        gettext("Bar chart of contributions by GCM objective, stacked by stakeholder category.")
        + " "
        + ("; ".join(parts) + "." if parts else gettext("No contributions."))
        + (" " + gettext("Counts that are not published are not drawn.") if meta["suppression"]["applied"] else "")
    )
    return _chart(spec, alt, title)


def representation_chart(meta: dict) -> Chart:
    """Shares of contributions and of attendance by stakeholder category."""
    rep = meta["representation"]
    title = gettext("Whose voice: shares by stakeholder category")
    spec = {
        "chart": "representation",
        "labels": [category_label(s["category"]) for s in rep["contributions"]["shares"]],
        "contributions": [s["percent"] or 0 for s in rep["contributions"]["shares"]],
        "attendance": [s["percent"] or 0 for s in rep["attendance"]["shares"]],
        "contributions_label": _drawn("Contributions"),
        "attendance_label": _drawn("Attendance"),
        "xlabel": _drawn("Share (%)"),
        "dominance": meta["settings"]["dominance_max_percent"],
        "title": _drawn("Whose voice: shares by stakeholder category"),
    }

    def describe(shares):
        label = {s["category"]: category_label(s["category"]) for s in shares}
        known = [f"{label[s['category']]} {_percent(s['percent'])}" for s in shares if s["percent"]]
        hidden = [label[s["category"]] for s in shares if s["percent"] is None]
        text = ", ".join(known) if known else gettext("none")
        if hidden:
            text += "; " + gettext("not shown (protected counts): %(categories)s", categories=", ".join(hidden))
        return text

    alt = " ".join(
        (
            gettext("Horizontal bar chart of the shares by stakeholder category."),
            gettext("Contributions: %(shares)s.", shares=describe(rep["contributions"]["shares"])),
            gettext("Attendance: %(shares)s.", shares=describe(rep["attendance"]["shares"])),
            gettext(
                "The dashed line marks the %(percent)s%% dominance threshold.",
                percent=meta["settings"]["dominance_max_percent"],
            ),
        )
    )
    return _chart(spec, alt, title)


def charts_for(meta: dict) -> list[Chart]:
    """The summary's two charts (nothing drawn yet: see Chart.png and Chart.url)."""
    return [objectives_chart(meta), representation_chart(meta)]


# -- drawing (from the spec alone) ---------------------------------------------------------------

def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _png(fig, language: str) -> bytes:
    # Every text of the figure laid out for the file's language (libraqm).
    for text in fig.findobj(lambda artist: hasattr(artist, "set_language")):
        text.set_language(language)
    out = io.BytesIO()
    fig.savefig(out, format="png", bbox_inches="tight")
    return out.getvalue()


def _axis_formatter():
    """Tick numbers as the spec's language writes them (the request's locale, which is
    the spec's: it is part of the key)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _pos: _number(int(value)))


def _render(spec: dict) -> bytes:
    """Draw the picture a spec describes (the slow part, about a second)."""
    started = time.perf_counter()
    png = _render_objectives(spec) if spec["chart"] == "objectives" else _render_representation(spec)
    log.info("chart %s drawn in %.2f s", spec["chart"], time.perf_counter() - started)
    return png


def _render_objectives(spec: dict) -> bytes:
    from matplotlib.ticker import MaxNLocator

    fig = _figure(8, 4.2)
    ax = fig.add_subplot()
    numbers = spec["numbers"]
    bottom = [0] * len(numbers)
    for s in spec["series"]:
        ax.bar(numbers, s["values"], bottom=bottom, color=s["colour"], label=s["label"], width=0.75)
        bottom = [b + v for b, v in zip(bottom, s["values"])]
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(_axis_formatter())
    ax.set_xticks(numbers)
    ax.set_xlabel(spec["xlabel"])
    ax.set_ylabel(spec["ylabel"])
    ax.set_title(spec["title"])
    ax.spines[["top", "right"]].set_visible(False)
    if any(bottom):
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.text(0.5, 0.5, spec["empty"], ha="center", va="center", transform=ax.transAxes)
    return _png(fig, spec["language"])


def _render_representation(spec: dict) -> bytes:
    fig = _figure(8, 3.6)
    ax = fig.add_subplot()
    ys = list(range(len(spec["labels"])))
    ax.barh([y - 0.2 for y in ys], spec["contributions"], height=0.4, color=PALETTE[0], label=spec["contributions_label"])
    ax.barh([y + 0.2 for y in ys], spec["attendance"], height=0.4, color=PALETTE[1], label=spec["attendance_label"])
    ax.set_yticks(ys, spec["labels"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(_axis_formatter())
    ax.set_xlabel(spec["xlabel"])
    ax.axvline(spec["dominance"], color="#555555", linestyle="--", linewidth=1)
    ax.set_title(spec["title"])
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False)
    return _png(fig, spec["language"])


# -- serving ------------------------------------------------------------------------------------

def response(key: str):
    """The cached picture for ``/charts/<key>.png``: kept by the browser (the key names
    one picture for ever: a change gives another key), 304 when it has it, 404 for a key
    that names no cached picture."""
    from flask import Response, abort, request

    path = cached_path(key)
    png = _read(key) if path is not None else None
    if png is None:
        abort(404)
    resp = Response(png, mimetype="image/png")
    resp.set_etag(key)
    # Only for the person the page was shown to: never kept by a shared cache.
    resp.cache_control.private = True
    resp.cache_control.max_age = CACHE_MAX_AGE_SECONDS
    resp.cache_control.immutable = True
    return resp.make_conditional(request)
