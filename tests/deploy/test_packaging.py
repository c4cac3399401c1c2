"""Reproducible function zips (and the dependency package's zipping), within FunctionGraph's limits."""

from __future__ import annotations

import hashlib
import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from sgguard_cli.deployer.packaging import (
    FIXED_DATE,
    MAX_CODE_ZIP_BYTES,
    PackagingError,
    build_function_zip,
    dependency_pins,
    function_entries,
    stub_dependency_zip,
    write_zip,
    zip_from_wheels,
)
from sgguard_cli.template import load_template
from tests.support.deploy import ROOT, sample_env


def _template(root: Path):
    return load_template(root / "template.yaml", sample_env())


def _build(root: Path, out: Path) -> dict:
    template = _template(root)
    return {f.func_name: build_function_zip(template.root, f, out) for f in template.functions}


def test_building_twice_gives_the_same_bytes(tmp_path):
    first, second = _build(ROOT, tmp_path / "a"), _build(ROOT, tmp_path / "b")
    for name, artifact in first.items():
        assert artifact.path.read_bytes() == second[name].path.read_bytes()
        assert artifact.sha256 == second[name].sha256 == hashlib.sha256(artifact.path.read_bytes()).hexdigest()
        assert artifact.sha512 == hashlib.sha512(artifact.path.read_bytes()).hexdigest()


def test_zip_layout_and_hygiene(tmp_path):
    artifacts = _build(ROOT, tmp_path)
    for artifact in artifacts.values():
        assert 0 < artifact.size < MAX_CODE_ZIP_BYTES
        with zipfile.ZipFile(artifact.path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            assert archive.testzip() is None
        assert names == sorted(names)
        assert "index.py" in names and "shared/__init__.py" in names and "shared/config.py" in names
        assert not any(
            "__pycache__" in n or n.endswith((".pyc", ".pyo")) or "/tests/" in n or n.endswith("/") for n in names
        )
        assert "shared/schemas/template.v1.json" not in names  # the deploy tool's schema stays out
        assert {info.date_time for info in infos} == {FIXED_DATE}
        assert {info.external_attr >> 16 for info in infos} == {0o100644}
    assert "policy.yaml" in zipfile.ZipFile(artifacts["ecs_created"].path).namelist()


def test_mtimes_do_not_change_the_digest_but_content_does(source_tree, tmp_path):
    before = _build(source_tree, tmp_path / "a")["change_request"].sha256
    index = source_tree / "functions" / "change_request" / "index.py"
    os.utime(index, (time.time() + 3600, time.time() + 3600))
    (source_tree / "shared" / "__pycache__").mkdir(exist_ok=True)
    (source_tree / "shared" / "__pycache__" / "junk.cpython-311.pyc").write_bytes(b"junk")
    assert _build(source_tree, tmp_path / "b")["change_request"].sha256 == before
    index.write_text(index.read_text() + "\n# changed\n")
    assert _build(source_tree, tmp_path / "c")["change_request"].sha256 != before


def test_missing_handler_module_or_include_is_an_error(source_tree):
    with pytest.raises(PackagingError, match="index.py not found"):
        function_entries(source_tree, "functions/nope")
    with pytest.raises(PackagingError, match="not-there.yaml not found"):
        function_entries(source_tree, "functions/ecs_created", ["not-there.yaml"])


def _wheel(path: Path, files: dict) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_dependency_zip_from_wheels_is_reproducible(tmp_path):
    wheels = [
        _wheel(
            tmp_path / "b_pkg-1.0-py3-none-any.whl",
            {
                "b_pkg/__init__.py": "B = 1\n",
                "b_pkg-1.0.dist-info/RECORD": "x",
                "b_pkg-1.0.dist-info/METADATA": "Name: b-pkg\n",
            },
        ),
        _wheel(
            tmp_path / "a_pkg-2.0-cp312-cp312-manylinux2014_x86_64.whl",
            {
                "a_pkg/__init__.py": "A = 1\n",
                "a_pkg/_ext.cpython-312-x86_64-linux-gnu.so": b"\x7fELF",
                "a_pkg/__pycache__/x.pyc": b"junk",
            },
        ),
    ]
    first = zip_from_wheels(wheels, tmp_path / "one.zip", "deps")
    second = zip_from_wheels(list(reversed(wheels)), tmp_path / "two.zip", "deps")
    assert first.sha256 == second.sha256
    names = zipfile.ZipFile(first.path).namelist()
    assert names == [
        "a_pkg/__init__.py",
        "a_pkg/_ext.cpython-312-x86_64-linux-gnu.so",
        "b_pkg-1.0.dist-info/METADATA",
        "b_pkg/__init__.py",
    ]  # site-packages layout at the root, no RECORD, no caches


def test_dependency_pins_are_the_installed_versions_including_native_ones():
    from importlib.metadata import version

    pins = dict(pin.split("==") for pin in dependency_pins(ROOT))
    for name in (
        "huaweicloudsdkcore",
        "huaweicloudsdkecs",
        "huaweicloudsdkvpc",
        "jsonschema",
        "pyyaml",
        "rpds-py",
        "huaweicloudsdksmn",
        "huaweicloudsdkeg",
        "huaweicloudsdkfunctiongraph",
    ):
        assert pins[name] == version(name)
    assert "pytest" not in pins and "hypothesis" not in pins


def test_stub_dependency_package_lists_the_pins(tmp_path):
    artifact = stub_dependency_zip(ROOT, tmp_path / "deps.zip", "sgguard-deps")
    text = zipfile.ZipFile(artifact.path).read("sgguard_deps_pins.txt").decode()
    assert "huaweicloudsdkcore==" in text


def test_write_zip_sorts_whatever_order_it_is_given(tmp_path):
    one = write_zip({"b": b"2", "a": b"1"}, tmp_path / "1.zip")
    two = write_zip({"a": b"1", "b": b"2"}, tmp_path / "2.zip")
    assert one.sha256 == two.sha256
    assert zipfile.ZipFile(io.BytesIO(one.path.read_bytes())).namelist() == ["a", "b"]


def test_pyproject_is_read_the_same_without_tomllib(monkeypatch):
    """Python 3.10 has no tomllib: the fallback reads the same requirement lists."""
    import builtins

    from sgguard_cli.deployer.packaging import project_table

    expected = project_table(ROOT / "pyproject.toml")
    real_import = builtins.__import__

    def no_tomllib(name, *args, **kwargs):
        if name == "tomllib":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tomllib)
    fallback = project_table(ROOT / "pyproject.toml")
    assert fallback["dependencies"] == expected["dependencies"]
    assert fallback["optional-dependencies"]["sinks"] == expected["optional-dependencies"]["sinks"]
