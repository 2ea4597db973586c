"""The import rules of DESIGN.md, read from the source with ast (nothing is imported to check them).

1. A topic never imports another topic: no module under derive/topics/<name>/ (or derive/topics/<name>.py)
   imports derive.topics.<other>, by absolute or relative import. Shared maths lives in derive.exact,
   shared wording in derive.notation and other non-topic modules.
2. Underscore-private names stay private to their module: no module of derive, tests or benchmarks
   imports a name starting with "_" from another module (``from m import _x``), and none reaches one
   through an imported module (``import m`` then ``m._x``). Dunder names (``__version__``) are public.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("derive", "tests", "benchmarks")


def _sources(root: Path, *folders: str) -> list[Path]:
    return sorted(p for folder in folders if (root / folder).is_dir() for p in (root / folder).rglob("*.py"))


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(dotted: str, root: Path) -> bool:
    """A module or package of the repository, found by its file (nothing is imported)."""
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module a ``from ... import`` reads from, resolving leading dots."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _topic_of(module: str) -> str | None:
    """``derive.topics.attention.explain`` -> ``attention``; None outside derive.topics."""
    parts = module.split(".")
    return parts[2] if parts[:2] == ["derive", "topics"] and len(parts) > 2 else None


def _imported_topics(path: Path, root: Path):
    """(topic, line, statement) for every topic a file imports, however the import is spelled."""
    module = _module_name(path, root)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield _topic_of(alias.name), node.lineno, f"import {alias.name}"
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, path.name == "__init__.py")
            for alias in node.names:
                topic = alias.name if source == "derive.topics" else _topic_of(source)
                yield topic, node.lineno, f"from {source} import {alias.name}"


def topic_violations(root: Path = ROOT) -> list[str]:
    """Imports of another topic from inside derive/topics (``_private`` modules there are no topics)."""
    found = []
    for path in _sources(root, "derive/topics"):
        own = _topic_of(_module_name(path, root))
        for topic, line, statement in _imported_topics(path, root):
            if topic and topic != own and not topic.startswith("_"):
                found.append(f"{path.relative_to(root)}:{line} imports topic {topic!r}: {statement}")
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(expr, modules: dict[str, str]) -> str | None:
    """``a.b.c`` for a chain of names, its head replaced by the module an import bound it to."""
    if isinstance(expr, ast.Name):
        return modules.get(expr.id, expr.id)
    if isinstance(expr, ast.Attribute):
        owner = _dotted(expr.value, modules)
        return owner and f"{owner}.{expr.attr}"
    return None


def private_violations(root: Path = ROOT) -> list[str]:
    found = []
    for path in _sources(root, *SCANNED):
        where, module = path.relative_to(root), _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        modules = {}  # local name -> the repository module it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and _is_module(alias.name, root):
                        modules[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(node, module, path.name == "__init__.py")
                for alias in node.names:
                    if _is_private(alias.name):
                        found.append(f"{where}:{node.lineno} imports {alias.name} from {source}")
                    elif _is_module(f"{source}.{alias.name}", root):
                        modules[alias.asname or alias.name] = f"{source}.{alias.name}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                owner = _dotted(node.value, modules)
                if owner and _is_module(owner, root):
                    found.append(f"{where}:{node.lineno} reads {owner}.{node.attr}")
    return found


def test_no_topic_imports_another_topic():
    found = topic_violations()
    assert not found, "topics import other topics:\n" + "\n".join(found)


def test_no_module_imports_a_private_name_from_another():
    found = private_violations()
    assert not found, "underscore-private names used across modules:\n" + "\n".join(found)


# --- the checks can fail ----------------------------------------------------------------------------


def _scratch(root: Path, files: dict[str, str]) -> Path:
    """A fake repository with the given files, so the checks run on known violations."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_topic_rule_catches_every_import_form(tmp_path):
    root = _scratch(
        tmp_path,
        {
            "derive/topics/a/__init__.py": "from derive.topics.b import TOPIC\n",
            "derive/topics/a/stages.py": "from derive.topics import b\nfrom . import explain\n",
            "derive/topics/a/explain.py": "import derive.topics.c.stages\nfrom ..d import x\n",
            "derive/topics/e.py": "from derive.topics.a.stages import y\n",
            "derive/topics/ok/__init__.py": "from derive.topics.ok import stages\nfrom .stages import z\n",
        },
    )
    found = "\n".join(topic_violations(root))
    for expected in ("a/__init__.py:1", "a/stages.py:1", "a/explain.py:1", "a/explain.py:2", "e.py:1"):
        assert expected in found
    assert "ok/" not in found and "a/stages.py:2" not in found


def test_the_private_rule_catches_names_and_attributes(tmp_path):
    root = _scratch(
        tmp_path,
        {
            "derive/one.py": "from derive.two import _hidden, shown\nimport derive.two as two\nx = two._inner\n",
            "derive/three.py": "import derive.two\nfrom derive import two\nx = derive.two._inner + two._inner\ny = x._fine\n",
            "derive/two.py": "_hidden = shown = _inner = 1\nfrom __future__ import annotations\n",
            "tests/test_x.py": "from derive.two import __doc__\n",
        },
    )
    found = "\n".join(private_violations(root))
    assert "derive/one.py:1 imports _hidden" in found
    assert "derive/one.py:3 reads derive.two._inner" in found
    assert found.count("derive/three.py:3 reads derive.two._inner") == 2
    assert "_fine" not in found
    assert "tests/test_x.py" not in found and "shown" not in found
