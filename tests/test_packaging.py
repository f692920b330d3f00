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
