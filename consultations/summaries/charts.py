"""Charts rendered on the server (matplotlib, Agg backend, no global pyplot state), so
the same picture appears on the page, in the Word file and in the PDF. Every chart
comes with a text alternative."""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from ..reference import STAKEHOLDER_CATEGORIES

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


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
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
        values = [r["categories"].get(key) or 0 for r in rows]
        if any(values):
            ax.bar(numbers, values, bottom=bottom, color=colour, label=label, width=0.75)
            bottom = [b + v for b, v in zip(bottom, values)]
    # Categories with a suppressed count are drawn together, in grey, as the rest of the
    # objective's (published) total: no more than the table already tells.
    rest = [max((r["total"] or 0) - b, 0) for r, b in zip(rows, bottom)]
    if any(rest):
        ax.bar(numbers, rest, bottom=bottom, color="#BBBBBB", label=f"Categories below {threshold}, combined", width=0.75)
        bottom = [b + v for b, v in zip(bottom, rest)]
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xticks(numbers)
    ax.set_xlabel("GCM objective")
    ax.set_ylabel("Contributions")
    ax.set_title("Contributions by GCM objective and stakeholder category")
    ax.spines[["top", "right"]].set_visible(False)
    if any(bottom):
        ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    else:
        ax.text(0.5, 0.5, "No contributions", ha="center", va="center", transform=ax.transAxes)
    parts = []
    for r in rows:
        if r["total"] is None:
            parts.append(f"objective {r['objective']}: fewer than {threshold}")
        elif r["total"]:
            cats = ", ".join(
                f"{STAKEHOLDER_CATEGORIES[k]} {v}" for k, v in r["categories"].items() if v
            )
            shown_sum = sum(v for v in r["categories"].values() if v)
            if shown_sum < r["total"]:
                cats = (cats + ", " if cats else "") + f"categories below {threshold} together {r['total'] - shown_sum}"
            parts.append(f"objective {r['objective']}: {r['total']}" + (f" ({cats})" if cats else ""))
    alt = (
        "Bar chart of contributions by GCM objective, stacked by stakeholder category. "
        + ("; ".join(parts) + "." if parts else "No contributions.")
        + (f" Counts below {threshold} are not drawn." if meta["suppression"]["applied"] else "")
    )
    return Chart(_png(fig), alt, "Contributions by GCM objective and stakeholder category")


def representation_chart(meta: dict) -> Chart:
    """Shares of contributions and of attendance by stakeholder category."""
    rep = meta["representation"]
    fig = _figure(8, 3.6)
    ax = fig.add_subplot()
    labels = [s["label"] for s in rep["contributions"]["shares"]]
    ys = list(range(len(labels)))
    contrib = [s["percent"] or 0 for s in rep["contributions"]["shares"]]
    attend = [s["percent"] or 0 for s in rep["attendance"]["shares"]]
    ax.barh([y - 0.2 for y in ys], contrib, height=0.4, color=PALETTE[0], label="Contributions")
    ax.barh([y + 0.2 for y in ys], attend, height=0.4, color=PALETTE[1], label="Attendance")
    ax.set_yticks(ys, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share (%)")
    ax.axvline(meta["settings"]["dominance_max_percent"], color="#555555", linestyle="--", linewidth=1)
    ax.set_title("Whose voice: shares by stakeholder category")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, frameon=False)

    def describe(shares):
        known = [f"{s['label']} {s['percent']}%" for s in shares if s["percent"]]
        hidden = [s["label"] for s in shares if s["percent"] is None]
        text = ", ".join(known) if known else "none"
        if hidden:
            text += f"; not shown (small counts): {', '.join(hidden)}"
        return text

    alt = (
        "Horizontal bar chart of the shares by stakeholder category. Contributions: "
        + describe(rep["contributions"]["shares"])
        + ". Attendance: "
        + describe(rep["attendance"]["shares"])
        + f". The dashed line marks the {meta['settings']['dominance_max_percent']}% dominance threshold."
    )
    return Chart(_png(fig), alt, "Whose voice: shares by stakeholder category")


def charts_for(meta: dict) -> list[Chart]:
    return [objectives_chart(meta), representation_chart(meta)]
