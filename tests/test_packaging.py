"""bptutor installs from a wheel as well as from the checkout: every sub-package is
listed in pyproject.toml and the digits travel with the package."""
import importlib.resources
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")


def setuptools_config():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_listed_for_the_wheel():
    # an unlisted folder with an __init__.py works in an editable install and is
    # silently missing from a wheel
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "bptutor").rglob("__init__.py")}
    listed = set(setuptools_config()["packages"])
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages"


def test_data_folder_is_installed_as_bptutor_data():
    config = setuptools_config()
    assert config["package-dir"]["bptutor.data"] == "data"
    assert "*.npz" in config["package-data"]["bptutor.data"]
    assert "bptutor.data" in config["packages"]


def test_digits_are_reachable_through_the_package():
    files = importlib.resources.files("bptutor.data")
    assert files.joinpath("digits.npz").is_file()
    assert files.joinpath("README.md").is_file()


def test_dependencies_never_require_torch():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    everything = project["dependencies"] + [d for deps in project["optional-dependencies"].values() for d in deps]
    assert not any(d.lower().startswith("torch") for d in everything)
    assert project["requires-python"] == ">=3.10"


def test_the_course_travels_with_the_package():
    config = setuptools_config()
    assert config["package-dir"]["bptutor.course_notebooks"] == "notebooks"
    assert config["package-dir"]["bptutor.course_figures"] == "figures"
    assert "*.ipynb" in config["package-data"]["bptutor.course_notebooks"]
    assert "guides/*.md" in config["package-data"]["bptutor.course_notebooks"]
    assert "*.png" in config["package-data"]["bptutor.course_figures"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["bptutor-course"] == "bptutor.course:main"


def test_the_course_environment_holds_no_test_tools():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    names = {d.split(">")[0].split("=")[0].lower() for d in extras["course"]}
    assert {"jupyterlab", "ipykernel"} <= names
    assert not names & {"pytest", "playwright", "nbval", "hypothesis", "notebook"}
    assert any(d.startswith("notebook>=7") for d in extras["test"])


@pytest.mark.slow
def test_wheel_installs_copies_the_course_and_runs_notebook_00(tmp_path):
    """Build the wheel, install it into a fresh venv outside the checkout (pip's cache keeps
    it quick), copy the course out with the console script and execute notebook 00 there
    in a kernel of that venv."""
    import json
    import os
    import subprocess
    import venv
    import zipfile

    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(wheels), str(ROOT)],
                   check=True, cwd=tmp_path)
    (wheel,) = wheels.glob("bptutor-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert f"bptutor/course_notebooks/{notebook.name}" in names
    for picture in (ROOT / "figures").glob("*.png"):
        assert f"bptutor/course_figures/{picture.name}" in names
    assert "bptutor/data/digits.npz" in names
    # every module of the checkout, subpackages (alternatives, plotting, ...) included
    missing = [str(m.relative_to(ROOT)) for m in (ROOT / "bptutor").rglob("*.py")
               if str(m.relative_to(ROOT)) not in names]
    assert missing == [], f"pyproject.toml's packages leave out {missing}"
    print(f"wheel: {wheel.stat().st_size / 1e6:.1f} MB")

    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env)
    python = env / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", str(wheel), "ipykernel"],
                   check=True, cwd=tmp_path)
    where = subprocess.run([str(python), "-c", "import bptutor; print(bptutor.__file__)"], check=True,
                           cwd=tmp_path, capture_output=True, text=True).stdout
    assert where.startswith(str(env)), where          # the wheel, not the checkout

    course = tmp_path / "my course"
    done = subprocess.run([str(env / "bin" / "bptutor-course"), "copy", str(course)], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = subprocess.run([str(env / "bin" / "bptutor-course"), "copy", str(course)], cwd=tmp_path,
                           capture_output=True, text=True)
    assert again.returncode == 2 and "exists" in again.stderr

    # a kernel of the fresh venv, found through JUPYTER_PATH
    spec = tmp_path / "jupyter" / "kernels" / "wheel"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bptutor wheel", "language": "python"}))
    os.environ["JUPYTER_PATH"] = str(tmp_path / "jupyter") + os.pathsep + os.environ.get("JUPYTER_PATH", "")
    try:
        path = course / "notebooks" / "00_start_here.ipynb"
        nb = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(nb, kernel_name="wheel", timeout=300,
                                resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        os.environ["JUPYTER_PATH"] = os.environ["JUPYTER_PATH"].split(os.pathsep, 1)[1]
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "All checks passed." in printed
