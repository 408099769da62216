"""The built wheel carries everything recruit needs: code, the shipped templates, the CLI.

The repository keeps its templates at the top level (``templates/``), outside the package,
so a wheel that forgot to map them in would still pass every other test (those run from the
checkout). This test builds the wheel, installs it into a fresh virtual environment and runs
the whole pipeline from there: the demo sends invitations and writes the report, and
``recruit init`` copies the e-mail templates into a study directory.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the freshly built wheel installed; returns its bin/ folder."""
    work = tmp_path_factory.mktemp("wheel")
    # Build from a clean copy: setuptools builds in the source tree, and a build/ folder left
    # there by an earlier build would still carry a package since dropped from the list.
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
    for name in ("recruit_cli", "templates"):
        shutil.copytree(REPO / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", work, source], cwd=work)
    wheels = list(work.glob("recruit_cli-*.whl"))
    assert len(wheels) == 1, wheels
    env_dir = work / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = Path(
        _run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=work
        ).stdout.strip()
    )
    # The dependencies come from the development environment (a plain path line: its .pth
    # files, the editable install's finder among them, are not processed), so only
    # recruit_cli itself comes from the wheel.
    (purelib / "zz_dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheels[0]],
        cwd=work,
    )
    return env_dir / "bin"


def test_the_wheel_is_what_runs(installed: Path, tmp_path: Path) -> None:
    out = _run(
        [
            installed / "python",
            "-c",
            "import recruit_cli.shipped as s; print(s.shipped_templates())",
        ],
        cwd=tmp_path,
    ).stdout.strip()
    assert out.startswith(str(installed.parent)), out  # not the checkout's templates/


def test_the_demo_runs_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    _run([installed / "recruit", "demo", "--dir", "demo", "--records", "40"], cwd=tmp_path)
    invitations = [
        p.read_text() for p in (tmp_path / "demo" / "outbox").glob("*.eml") if "invite" in p.name
    ]
    assert invitations, "the demo sent no invitation"
    assert "Content-Type: text/html" in invitations[0]
    reports = list((tmp_path / "demo" / "reports").glob("*.html"))
    assert reports and "<html" in reports[0].read_text()


def test_init_copies_the_shipped_templates_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    _run([installed / "recruit", "init", "study"], cwd=tmp_path)
    copied = sorted(p.name for p in (tmp_path / "study" / "templates" / "email").iterdir())
    shipped = sorted(p.name for p in (REPO / "templates" / "email").iterdir())
    assert copied == shipped
    assert "[study]" in (tmp_path / "study" / "recruit.toml").read_text()


def test_the_editable_install_finds_the_repository_templates(tmp_path: Path) -> None:
    # Away from the checkout, recruit_cli comes through the editable install's finder.
    out = _run(
        [sys.executable, "-c", "import recruit_cli.shipped as s; print(s.shipped_templates())"],
        cwd=tmp_path,
    ).stdout.strip()
    assert Path(out) == REPO / "templates"


def test_the_microsoft_stand_in_runs_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    # The sandbox's Microsoft stand-in is a subpackage of its own in pyproject's list.
    code = (
        "import requests\n"
        "from recruit_cli.sandbox.microsoft import run_microsoft_sandbox\n"
        "with run_microsoft_sandbox() as ms:\n"
        "    url = f'{ms.authority_host}/{ms.tenant_id}/v2.0/.well-known/openid-configuration'\n"
        "    print(requests.get(url, verify=str(ms.ca_bundle), timeout=10).json()['issuer'])\n"
    )
    out = _run([installed / "python", "-c", code], cwd=tmp_path).stdout
    assert out.startswith("https://127.0.0.1:"), out
