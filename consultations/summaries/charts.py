"""Charts rendered on the server (matplotlib, Agg backend, no global pyplot state), so
the same picture appears on the page, in the Word file and in the PDF. Every chart
comes with a text alternative.

Titles, labels, numbers and text alternatives are in the file's language (the interface
language of the request). Matplotlib 3.11 lays text out with libraqm (HarfBuzz and
FriBidi), so Arabic is drawn shaped and right to left, in DejaVu Sans, which has the
Arabic letters."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from flask_babel import gettext

from ..i18n import current_locale
from ..reference import STAKEHOLDER_CATEGORIES, category_label

# Colour-blind-safe palette (Okabe-Ito and Tol), one colour per stakeholder category.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#332288", "#999999"]


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt: str
    title: str

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


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


def _text(fig) -> None:
    """Every text of the figure laid out for the file's language (libraqm)."""
    language = current_locale()
    for text in fig.findobj(lambda artist: hasattr(artist, "set_language")):
        text.set_language(language)


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    _text(fig)
    out = io.BytesIO()
    fig.savefig(out, format="png", bbox_inches="tight")
    return out.getvalue()


def objectives_chart(meta: dict) -> Chart:
    """Contributions by GCM objective, stacked by stakeholder category."""
    rows = meta["by_objective"]
    threshold = meta["suppression"]["threshold"]
    fig = _figure(8, 4.2)
    ax = fig.add_subplot()
    numbers = [r["objective"] for r in rows]
    bottom = [0] * len(rows)
    for colour, (key, label) in zip(PALETTE, STAKEHOLDER_CATEGORIES.items()):
        values = [_count(r["categories"].get(key)) for r in rows]
        if any(values):
            ax.bar(numbers, values, bottom=bottom, color=colour, label=_drawn(label), width=0.75)
            bottom = [b + v for b, v in zip(bottom, values)]
    # Categories whose count is not published (too small, or hidden to protect a small
    # one) are drawn together, in grey, as the rest of the objective's published total:
    # no more than the table already tells.
    rest = [max(_count(r["total"]) - b, 0) for r, b in zip(rows, bottom)]
    if any(rest):
        ax.bar(numbers, rest, bottom=bottom, color="#BBBBBB", label=_drawn("Categories not shown, combined"), width=0.75)
        bottom = [b + v for b, v in zip(bottom, rest)]
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: _number(int(y))))
    ax.set_xticks(numbers)
    ax.set_xlabel(_drawn("GCM objective"))
    ax.set_ylabel(_drawn("Contributions"))
    ax.set_title(_drawn("Contributions by GCM objective and stakeholder category"))
    ax.spines[["top", "right"]].set_visible(False)
    if any(bottom):
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.text(0.5, 0.5, _drawn("No contributions"), ha="center", va="center", transform=ax.transAxes)
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
    return Chart(_png(fig), alt, gettext("Contributions by GCM objective and stakeholder category"))


def representation_chart(meta: dict) -> Chart:
    """Shares of contributions and of attendance by stakeholder category."""
    rep = meta["representation"]
    fig = _figure(8, 3.6)
    ax = fig.add_subplot()
    labels = [category_label(s["category"]) for s in rep["contributions"]["shares"]]
    ys = list(range(len(labels)))
    contrib = [s["percent"] or 0 for s in rep["contributions"]["shares"]]
    attend = [s["percent"] or 0 for s in rep["attendance"]["shares"]]
    ax.barh([y - 0.2 for y in ys], contrib, height=0.4, color=PALETTE[0], label=_drawn("Contributions"))
    ax.barh([y + 0.2 for y in ys], attend, height=0.4, color=PALETTE[1], label=_drawn("Attendance"))
    ax.set_yticks(ys, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _number(int(x))))
    ax.set_xlabel(_drawn("Share (%)"))
    ax.axvline(meta["settings"]["dominance_max_percent"], color="#555555", linestyle="--", linewidth=1)
    ax.set_title(_drawn("Whose voice: shares by stakeholder category"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False)

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
    return Chart(_png(fig), alt, gettext("Whose voice: shares by stakeholder category"))


def charts_for(meta: dict) -> list[Chart]:
    return [objectives_chart(meta), representation_chart(meta)]
