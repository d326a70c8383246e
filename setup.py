"""Ships providers.yaml, capabilities.yaml and specs/ inside the wheel as engine/_data.

The data files live at the top of the repository (where spec authors edit them);
setuptools' package-data only reaches files inside a package, so build_py copies
them into the built package. `engine.loader.bundled_root()` looks there first.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / "engine" / "_data"
        if target.exists():
            shutil.rmtree(target)
        (target / "specs").mkdir(parents=True)
        for name in ("providers.yaml", "capabilities.yaml"):
            shutil.copy2(ROOT / name, target / name)
        shutil.copytree(ROOT / "specs", target / "specs", dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithData})
