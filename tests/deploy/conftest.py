"""Fixtures of the deploy suite: a copy of the sources to build from, a deployer (helpers: ``tests.support.deploy``)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sgguard_cli.deployer.packaging import write_zip
from tests.support.deploy import ROOT, run_deploy, sample_env


@pytest.fixture
def source_tree(tmp_path) -> Path:
    """A copy of what the template builds from, so a test can change code without touching the repo."""
    root = tmp_path / "src"
    root.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("shared", "functions"):
        shutil.copytree(ROOT / name, root / name, ignore=ignore)
    for name in ("template.yaml", "policy.yaml", "pyproject.toml"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, root / name)
    return root


@pytest.fixture
def deployer(cloud, source_tree, tmp_path):
    deps = write_zip({"placeholder/__init__.py": b""}, tmp_path / "deps.zip").path

    class Deployer:
        env = sample_env(cloud, DEPENDENCY_ZIP=str(deps))
        template = source_tree / "template.yaml"
        lines: list[str] = []

        def __call__(self, *extra: str, **overrides: str) -> list[dict]:
            """Deploy (``--yes`` unless ``--plan``); return the write requests localcloud received."""
            env = {**self.env, **overrides}
            env = {k: v for k, v in env.items() if v is not None}
            since = cloud.last_seq()
            self.lines = []
            code = run_deploy(
                [
                    "--template",
                    str(source_tree / "template.yaml"),
                    "--endpoint",
                    cloud.url,
                    "--build-dir",
                    str(tmp_path / "build"),
                    *(() if "--plan" in extra else ("--yes",)),
                    *extra,
                ],
                env,
                out=self.lines.append,
            )
            assert code == 0, self.lines
            return [r for r in cloud.requests(since) if r.get("write")]

    return Deployer()
