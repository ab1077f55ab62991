"""YAML reading with errors that name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mtbench.errors import MtbenchError


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping: PyYAML keeps the last
    silently, so `steps: 40` ... `steps: 400` would train with a value the reader missed.
    Checked as each mapping is composed, before merge keys (`<<: *defaults`) are expanded,
    so a key that overrides a merged one is fine."""

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)  # type: ignore[misc]
        seen: dict[tuple[str, str], yaml.Mark] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise yaml.composer.ComposerError(
                    None, None, f"key {key_node.value!r} is given twice (lines {seen[key].line + 1} and "
                    f"{key_node.start_mark.line + 1}), keep one", key_node.start_mark)
            seen[key] = key_node.start_mark
        return node


def load_yaml(path: str | Path, text: str | None = None) -> Any:
    p = Path(path)
    if text is None:
        try:
            text = p.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise MtbenchError(f"YAML file not found: {p} (check the path)") from None
        except IsADirectoryError:
            raise MtbenchError(f"{p} is a folder, not a YAML file; give the configuration file itself") from None
        except PermissionError:
            raise MtbenchError(f"YAML file {p} is not readable (check its permissions)") from None
        except UnicodeDecodeError:
            raise MtbenchError(f"YAML file is not valid UTF-8: {p}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise MtbenchError(f"malformed YAML in {p}{where}: {problem}; fix the syntax there") from None


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    data = load_yaml(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MtbenchError(f"{path}: expected a mapping of keys to values at the top level, got {type(data).__name__}")
    return data
