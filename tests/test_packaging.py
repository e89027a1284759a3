"""A non-editable install (a wheel, ``pip install .``) is a working Mesa.

The wheel is built from the files a commit would hold (copied out of the checkout, so no
stale ``build/`` folder and no untracked clutter take part), installed with
``pip install --target`` into a temporary folder, and run from an empty working
directory with only that folder and the dependencies on the path: the checkout is not
importable there, so templates, static files, migrations and translations can only come
from the wheel.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Top-level folders of the checkout and where the wheel carries them.
MAPPED = {"templates": "consultations/templates", "static": "consultations/static",
          "migrations": "consultations/migrations"}


def _source_files() -> list[str]:
    """The files a commit would hold (tracked, or new and not ignored), that exist."""
    if shutil.which("git") and (ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True,
        ).stdout.decode()
        return sorted({f for f in out.split("\0") if f and (ROOT / f).is_file()})
    skip = {".git", ".venv", "node_modules", "instance", "build", "dist", "__pycache__", ".hypothesis",
            ".pytest_cache", "test-results"}
    return sorted(
        str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
        if p.is_file() and not skip & set(p.relative_to(ROOT).parts) and ".egg-info" not in str(p)
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in _source_files():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    out = tmp_path_factory.mktemp("wheelhouse")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("mesa-*.whl")
    return built


def test_wheel_holds_templates_static_files_migrations_and_translations(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = set()
    for name in _source_files():
        top, _, rest = name.partition("/")
        if top == "consultations" and "__pycache__" not in name:
            expected.add(name)
        elif top in MAPPED:
            expected.add(f"{MAPPED[top]}/{rest}")
    missing = sorted(expected - names)
    assert not missing, f"the wheel lacks {len(missing)} files (see setup.py, pyproject.toml), e.g. {missing[:10]}"
    assert "consultations/templates/base.html" in names
    assert "consultations/static/style.css" in names
    assert "consultations/migrations/env.py" in names
    assert "consultations/migrations/alembic.ini" in names
    assert any(n.startswith("consultations/migrations/versions/") for n in names)
    for lang in ("ar", "es", "fr", "pt"):
        assert f"consultations/translations/{lang}/LC_MESSAGES/messages.mo" in names
    # Nothing but the package and its metadata: no checkout runtime or tooling folders.
    assert not [n for n in names if not n.startswith(("consultations/", "mesa-"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


# Runs in the subprocess: from an empty directory, with the wheel's folder first on the path.
_RUN = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path

    site = Path(sys.argv[1]).resolve()
    import consultations
    from consultations import create_app, default_instance_path
    from flask_migrate import upgrade

    app = create_app()
    with app.app_context():
        upgrade()
    client = app.test_client()
    home = client.get("/")
    css = client.get("/static/style.css")
    spanish = client.get("/", headers={"Accept-Language": "es"})
    login = client.get("/login")
    print(json.dumps({
        "package": consultations.__file__,
        "path": sys.path,
        "templates": app.jinja_loader.searchpath,
        "static": app.static_folder,
        "migrations": app.extensions["migrate"].directory,
        "instance": app.instance_path,
        "default_instance": str(default_instance_path()),
        "home": [home.status_code, home.get_data(as_text=True)],
        "css": [css.status_code, len(css.data)],
        "spanish": [spanish.status_code, spanish.get_data(as_text=True)],
        "login": [login.status_code, login.get_data(as_text=True)],
    }))
    """
)


def test_installed_wheel_migrates_and_serves_pages_without_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
         "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert not (site / "app.py").exists()

    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    instance = tmp_path / "instance"
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MESA_", "FLASK_"))}
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)
    env["PYTHONPATH"] = os.pathsep.join([str(site), *sorted(dependencies)])
    env["MESA_INSTANCE_PATH"] = str(instance)

    def run(*args):
        # -S: no site-packages .pth files (the editable install's finder would map
        # ``consultations`` to the checkout); -P: the working directory is not on the path.
        return subprocess.run(
            [sys.executable, "-S", "-P", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
        )

    # The operator's way: flask finds the create_app factory of the installed package.
    migrated = run("-m", "flask", "--app", "consultations", "db", "upgrade")
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    assert (instance / "mesa.sqlite3").is_file()

    served = run("-c", _RUN, str(site))
    assert served.returncode == 0, served.stdout + served.stderr
    out = json.loads(served.stdout.strip().splitlines()[-1])

    site = site.resolve()
    assert Path(out["package"]).resolve().is_relative_to(site)
    assert not any(p and Path(p).resolve() == ROOT for p in out["path"]), out["path"]
    assert [Path(p).resolve() for p in out["templates"]] == [site / "consultations" / "templates"]
    assert Path(out["static"]).resolve() == site / "consultations" / "static"
    assert Path(out["migrations"]).resolve() == site / "consultations" / "migrations"
    assert Path(out["instance"]).resolve() == instance.resolve()
    # Without MESA_INSTANCE_PATH an installed Mesa keeps its data out of site-packages.
    assert not Path(out["default_instance"]).resolve().is_relative_to(site)
    assert Path(out["default_instance"]).name == "mesa-instance"

    status, html = out["home"]
    assert status == 200, html[-2000:]
    assert "/static/style.css" in html
    assert out["css"][0] == 200 and out["css"][1] > 1000
    status, html = out["spanish"]
    assert status == 200
    assert 'lang="es"' in html and "Iniciar sesión" in html
    status, html = out["login"]
    assert status == 200 and 'name="csrf_token"' in html


# -- make run: no system installs, plain words about what is missing, HOST and PORT ---------
def _stub(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(0o755)


@pytest.fixture
def fake_machine(tmp_path):
    """The Makefile beside a venv whose tools only record how they are called, on a PATH
    where we look like root, dpkg reports every package missing, and apt-get fails on the
    dpkg lock like when another process holds it (and records that it was called)."""
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    work = tmp_path / "work"
    work.mkdir()
    for name in ("Makefile", "pyproject.toml", "setup.py"):
        shutil.copy2(ROOT / name, work / name)
    calls = tmp_path / "calls.log"
    calls.touch()
    venv_bin = work / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    # The venv's python runs the real check, as on a machine without WeasyPrint's
    # libraries and fonts; any other use of it is only recorded.
    _stub(venv_bin / "python", textwrap.dedent(f"""\
        #!{sys.executable}
        import sys
        with open({str(calls)!r}, "a") as log:
            log.write("python " + " ".join(sys.argv[1:]) + "\\n")
        if sys.argv[1:] == ["-m", "consultations.system"]:
            sys.path.insert(0, {str(ROOT)!r})
            from consultations import system
            print(system.report(system.problems(load=lambda names: None, has_font=lambda family: False,
                                                which=lambda command: None)))
        """))
    for tool in ("flask", "pip", "pytest"):
        _stub(venv_bin / tool, f'#!/bin/sh\necho "{tool} $*" >> "{calls}"\n')
    stamp_time = time.time() + 60  # newer than the venv and pyproject.toml: installed
    for stamp in (".installed", ".installed-test"):
        (work / ".venv" / stamp).touch()
        os.utime(work / ".venv" / stamp, (stamp_time, stamp_time))
    path = tmp_path / "path"
    path.mkdir()
    _stub(path / "id", '#!/bin/sh\necho 0\n')
    _stub(path / "dpkg-query", '#!/bin/sh\nexit 1\n')
    _stub(path / "apt-get", f'#!/bin/sh\necho "apt-get $*" >> "{calls}"\ncase "$*" in *update*) exit 0;; esac\n'
                            'echo "E: Could not get lock /var/lib/dpkg/lock-frontend" >&2\nexit 100\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS", "PORT", "HOST", "VENV"))}
    env["PATH"] = f"{path}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"

    def make(*args):
        result = subprocess.run(["make", "--no-print-directory", *args], cwd=work, env=env,
                                capture_output=True, text=True, timeout=120)
        return result, calls.read_text()

    return make


def test_make_run_installs_nothing_says_what_is_missing_and_starts(fake_machine):
    result, calls = fake_machine("run", "PORT=8080", "HOST=0.0.0.0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "apt-get" not in calls
    assert "pip " not in calls  # already installed: nothing to do
    assert "flask --app app db upgrade" in calls
    assert "flask --app app demo --if-empty" in calls
    assert "flask --app app run --host 0.0.0.0 --port 8080" in calls
    out = result.stdout
    assert "Mesa starts anyway" in out
    assert "Pango is missing" in out and "PDF downloads of summaries will not work" in out
    assert "The font DejaVu Sans is missing" in out
    assert "Nothing was installed" in out and "libpango-1.0-0" in out


def test_make_run_serves_on_localhost_port_5000_by_default(fake_machine):
    result, calls = fake_machine("run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "flask --app app run --host 127.0.0.1 --port 5000" in calls
    assert "apt-get" not in calls


def test_make_test_still_installs_the_system_packages_the_tests_need(fake_machine):
    result, calls = fake_machine("system-packages")
    # It asked apt-get, waiting for the dpkg lock rather than failing at once.
    assert "apt-get -o DPkg::Lock::Timeout=300 update -qq" in calls
    assert "apt-get -o DPkg::Lock::Timeout=300 install -y -qq libpango-1.0-0" in calls
    assert "poppler-utils" in calls
    assert result.returncode != 0  # our fake apt-get never gets the lock


# -- what the check says -----------------------------------------------------------------
class _Pango:
    def __init__(self, number):
        self.number = number

    def pango_version(self):
        return self.number


def test_system_check_names_each_missing_library_and_what_fails():
    from consultations import system

    found = system.problems(load=lambda names: None, has_font=lambda family: False, which=lambda command: None)
    text = system.report(found)
    for library in system.LIBRARIES:
        assert f"{library.label} is missing (Debian/Ubuntu package {library.debian})" in text
    assert "PDF downloads of summaries will not work" in text
    assert "Word, spreadsheet, CSV, JSON and Markdown will" in text
    assert "The font Noto Color Emoji is missing" in text
    assert "apt-get install libglib2.0-0 libpango-1.0-0" in text
    assert "LibreOffice is missing (Debian/Ubuntu package libreoffice-writer-nogui)" in text
    assert "Word downloads have no page numbers" in text


def test_system_check_is_quiet_when_everything_is_there_and_flags_an_old_pango():
    from consultations import system

    def load(names):
        return _Pango(15012) if "libpango-1.0.so.0" in names else object()

    def which(command):
        return f"/usr/bin/{command}"

    assert system.problems(load=load, has_font=lambda family: True, which=which) == []
    assert "all present" in system.report([])
    no_carlito = system.problems(load=load, has_font=lambda family: family != "Carlito", which=which)
    assert len(no_carlito) == 1 and "fonts-crosextra-carlito" in no_carlito[0]

    def old(names):
        return _Pango(14204) if "libpango-1.0.so.0" in names else object()

    (problem,) = system.problems(load=old, has_font=lambda family: True, which=which)
    assert "Pango 1.42 is too old" in problem and "1.44 or later" in problem
    only_subsetter = system.problems(
        load=lambda names: None if "libharfbuzz-subset.so.0" in names else object(),
        has_font=lambda family: True,
        which=which,
    )
    assert len(only_subsetter) == 1 and "PDF downloads still work" in only_subsetter[0]
    assert "apt-get install libharfbuzz-subset0" in system.report(only_subsetter)


def test_system_check_on_this_machine_runs_and_never_fails():
    result = subprocess.run([sys.executable, "-m", "consultations.system"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "PDF and Word summaries: all present" in result.stdout or "Mesa starts anyway" in result.stdout
