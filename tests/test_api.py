import importlib

import pytest

import dialogdata as dd

PUBLIC = {
    "dialogdata": {
        "BuildResult",
        "Dialogue",
        "Role",
        "ToolCall",
        "Turn",
        "__version__",
        "build",
        "read",
        "write",
    },
    "dialogdata.augmenters": {"Adversarial", "Augmenter", "EntitySubstitution", "RoleSwap"},
    "dialogdata.validators": {
        "Cell",
        "Conflict",
        "ConflictResult",
        "Consistency",
        "Coverage",
        "CoverageResult",
        "Issue",
    },
    "dialogdata.gazetteers": {"BUNDLED", "Gazetteer", "Span", "load_gazetteer"},
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_api_is_curated(module):
    mod = importlib.import_module(module)
    assert set(mod.__all__) == PUBLIC[module]
    for name in mod.__all__:
        assert getattr(mod, name) is not None


def test_version_matches_package_metadata():
    from importlib.metadata import version

    assert dd.__version__ == version("dialogdata")


def test_cli_help_does_not_import_heavy_modules():
    import subprocess
    import sys

    heavy = ("jinja2", "jsonschema", "hypothesis")
    code = f"import sys, dialogdata.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
