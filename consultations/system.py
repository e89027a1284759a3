"""What Mesa needs from the machine beyond its Python packages, and what fails without it.

``make run`` calls ``python -m consultations.system`` before starting the demo: it never
installs anything (no ``apt-get``, no root), it says plainly what is missing and what
will not work, and the demo starts anyway. Only PDF downloads of summaries depend on
system libraries (WeasyPrint's Pango stack) and fonts, and the page numbers of Word
downloads' contents on LibreOffice; everything else is pure Python wheels. ``make test``
installs these with apt-get when it may (Makefile, ``system-packages``).
"""
from __future__ import annotations

import ctypes
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

PANGO_MINIMUM = (1, 44)
PDF = "PDF downloads of summaries will not work (Word, spreadsheet, CSV, JSON and Markdown will)"


@dataclass(frozen=True)
class Library:
    label: str
    names: tuple[str, ...]  # as WeasyPrint looks them up (Linux, then macOS)
    debian: str
    consequence: str


# The libraries WeasyPrint opens (weasyprint/text/ffi.py).
LIBRARIES = (
    Library("GObject", ("libgobject-2.0.so.0", "libgobject-2.0.0.dylib"), "libglib2.0-0", PDF),
    Library("Pango", ("libpango-1.0.so.0", "libpango-1.0.dylib"), "libpango-1.0-0", PDF),
    Library("PangoFT2", ("libpangoft2-1.0.so.0", "libpangoft2-1.0.dylib"), "libpangoft2-1.0-0", PDF),
    Library("HarfBuzz", ("libharfbuzz.so.0", "libharfbuzz.0.dylib"), "libharfbuzz0b", PDF),
    Library("fontconfig", ("libfontconfig.so.1", "libfontconfig.1.dylib"), "libfontconfig1", PDF),
    Library(
        "HarfBuzz subsetter",
        ("libharfbuzz-subset.so.0", "libharfbuzz-subset.0.dylib"),
        "libharfbuzz-subset0",
        "PDF downloads still work, but embed fonts less compactly and WeasyPrint warns "
        "that its next versions require this library",
    ),
)

# (family as fontconfig names it, Debian package, what is missing without it)
FONTS = (
    ("DejaVu Sans", "fonts-dejavu-core", "PDF summaries lack a font for Latin and Arabic text"),
    ("Noto Color Emoji", "fonts-noto-color-emoji", "PDF summaries show emoji as empty boxes"),
)


# Optional: LibreOffice lays Word files out to give their contents page numbers
# (summaries/exports.py, office()), with Carlito standing in for Calibri.
OFFICE = ("soffice", "libreoffice")
OFFICE_PACKAGE = "libreoffice-writer-nogui"
CARLITO = ("Carlito", "fonts-crosextra-carlito")


def _load(names: tuple[str, ...]):
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def _has_font(family: str) -> bool | None:
    """True or False, or None when fontconfig's ``fc-list`` is not there to ask."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return None
    try:
        out = subprocess.run([fc_list, family, "family"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return any(family in (name.strip() for name in line.split(",")) for line in out.splitlines())


def _pango_version(pango) -> tuple[int, int] | None:
    try:
        number = pango.pango_version()
    except AttributeError:
        return None
    return number // 10000, number // 100 % 100


def problems(
    load: Callable[[tuple[str, ...]], object] | None = None,
    has_font: Callable[[str], bool | None] | None = None,
    which: Callable[[str], str | None] | None = None,
) -> list[str]:
    """One plain sentence per missing library, font or program, saying what will not
    work. ``load``, ``has_font`` and ``which`` stand in for the machine's (tests)."""
    load = load or _load
    has_font = has_font or _has_font
    which = which or shutil.which
    found: list[str] = []
    for library in LIBRARIES:
        handle = load(library.names)
        if handle is None:
            found.append(f"{library.label} is missing (Debian/Ubuntu package {library.debian}): {library.consequence}.")
        elif library.label == "Pango":
            version = _pango_version(handle)
            if version is not None and version < PANGO_MINIMUM:
                found.append(
                    f"Pango {version[0]}.{version[1]} is too old (Debian/Ubuntu package {library.debian}), "
                    f"WeasyPrint needs {PANGO_MINIMUM[0]}.{PANGO_MINIMUM[1]} or later: {PDF}."
                )
    for family, package, consequence in FONTS:
        present = has_font(family)
        if present is None:
            found.append(f"Could not check the fonts (fontconfig's fc-list is missing): if {family} is "
                         f"absent (package {package}), {consequence}.")
            break
        if not present:
            found.append(f"The font {family} is missing (Debian/Ubuntu package {package}): {consequence}.")
    if not any(which(command) for command in OFFICE):
        found.append(f"LibreOffice is missing (Debian/Ubuntu package {OFFICE_PACKAGE}): the contents of Word "
                     "downloads have no page numbers.")
    elif has_font(CARLITO[0]) is False:
        found.append(f"The font {CARLITO[0]} is missing (Debian/Ubuntu package {CARLITO[1]}): the page "
                     "numbers of Word contents are laid out with another font than Calibri's metrics.")
    return found


def report(found: list[str]) -> str:
    if not found:
        return "System libraries, fonts and programs for PDF and Word summaries: all present."
    lines = ["Some system libraries, fonts or programs are missing; Mesa starts anyway:"]
    lines += [f"  - {line}" for line in found]
    lines.append("Nothing was installed. On Debian or Ubuntu, as root: apt-get install "
                 + " ".join(_packages(found)))
    return "\n".join(lines)


def _packages(found: list[str]) -> list[str]:
    every = [library.debian for library in LIBRARIES] + [package for _, package, _ in FONTS]
    every += [OFFICE_PACKAGE, CARLITO[1]]
    return [package for package in every if any(f"package {package}" in line for line in found)] or every


def main() -> int:
    print(report(problems()))
    return 0  # informative only: the demo starts without PDF support


if __name__ == "__main__":
    sys.exit(main())
