"""A metric against a training setting, from one run: `mtbench report RUN --x lat.alpha`.

An ablation (LAT's unlikelihood weight alpha, steps, lr, data.limit) trains one model per
value of a setting and scores them together. Each model's value is read from the record
`mtbench train` leaves in its checkpoint (``mtbench_train.json``, key ``config``, dotted
path): the checkpoint is the folder the run's backend loaded (the manifest's model
fingerprint), or else a ``--train-log`` folder of the same name. No value is typed by hand,
so a curve cannot put a model at the wrong x. One line per direction, one point per model.
A curve links only models whose training records agree on every other setting (``out``
aside): an ablation of lr and steps scored in one run gives an lr curve without the
steps arms, and the model they all start from is on neither. Models without the setting
(a base model, a system file) or trained differently are named in one line, with why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from mtbench.errors import MtbenchError
from mtbench.report import plots
from mtbench.report.details import file_slug
from mtbench.report.scope import limit_note, scope_line, segments_phrase, test_phrase
from mtbench.results import Results
from mtbench.models.fingerprint import weights_sha256
from mtbench.textio import read_json

IGNORED = ("out",)  # where a checkpoint was written does not change what it learned

TRAIN_RECORD = "mtbench_train.json"


@dataclass(frozen=True)
class SettingValues:
    key: str
    values: dict[str, float]  # model -> its value of the setting
    missing: list[str]  # "model (why)" for models left out


def _read(path: Path) -> dict[str, Any]:
    try:
        data = read_json(path)
    except (OSError, ValueError) as exc:
        raise MtbenchError(f"--x: cannot read {path} ({exc}); is it a file mtbench wrote?") from None
    if not isinstance(data, dict):
        raise MtbenchError(f"--x: {path} is not a JSON object; is it a file mtbench wrote?")
    return data


def _checkpoint(fingerprint: dict[str, Any], by_name: dict[str, Path]) -> tuple[Path | None, str]:
    """The `mtbench train` folder whose weights the run loaded, or why there is none."""
    loaded = fingerprint.get("model")
    if not loaded:
        return None, "no checkpoint folder in the run's manifest"
    for folder in dict.fromkeys((Path(loaded), by_name.get(Path(loaded).name))):
        if folder is None or not (folder / TRAIN_RECORD).is_file():
            continue
        want = fingerprint.get("weights_sha256")
        if want and weights_sha256(folder) != want:  # retrained since the run: its record is not the run's model
            return None, f"{folder}'s weights are not the ones the run loaded"
        return folder, ""
    return None, "not a `mtbench train` checkpoint"


def _lookup(config: Any, key: str) -> Any:
    for part in key.split("."):
        config = config.get(part) if isinstance(config, dict) else None
    return config


def _flat(config: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Dotted key -> leaf value of a nested training config."""
    if isinstance(config, dict) and config:
        for k, v in config.items():
            yield from _flat(v, f"{prefix}{k}.")
    else:
        yield prefix[:-1], config


def _others(config: dict[str, Any], key: str) -> dict[str, Any]:
    """Every setting of ``config`` but ``key`` (and those under it) and the ignored ones."""
    return {k: v for k, v in _flat(config) if k not in IGNORED and k != key and not k.startswith(key + ".")}


_ABSENT = object()


def _differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Settings set differently, or set in one config only (an older record without a key)."""
    return sorted(k for k in set(a) | set(b) if a.get(k, _ABSENT) != b.get(k, _ABSENT))


def setting_values(run_dir: Path, results: Results, key: str, train_logs: Sequence[str] = ()) -> SettingValues:
    """Each model's value of the training setting ``key``, from the checkpoints that
    ``run_dir``'s manifest says were loaded (or ``--train-log`` folders of the same name
    and weights), for the largest set of models trained alike in every other setting; a
    one-line error when no such set has two distinct values."""
    names = [Path(p).name for p in train_logs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MtbenchError(f"--x {key}: several --train-log folders are named {', '.join(twice)}; a model is matched to "
                           f"its folder by name, so give each checkpoint a folder name of its own")
    by_name = {Path(p).name: Path(p) for p in train_logs if Path(p).is_dir()}
    manifest_path = run_dir / "manifest.json"
    manifest = _read(manifest_path) if manifest_path.is_file() else {}
    found: dict[str, tuple[float, dict[str, Any]]] = {}  # model -> (its value, its other settings)
    missing: list[str] = []
    for model in results.models:
        entry = (manifest.get("models") or {}).get(model) or {}
        folder, why = _checkpoint(entry.get("fingerprint") or {}, by_name)
        if folder is None:
            missing.append(f"{model} ({why})")
            continue
        config = _read(folder / TRAIN_RECORD).get("config", {})
        value = _lookup(config, key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            missing.append(f"{model} (no number at {key} in {folder / TRAIN_RECORD})")
            continue
        found[model] = (float(value), _others(config, key))
    groups: list[list[str]] = []  # models trained alike but for key
    for model, (_, others) in found.items():
        group = next((g for g in groups if found[g[0]][1] == others), None)
        group.append(model) if group is not None else groups.append([model])
    curve = max(groups, key=lambda g: len({found[m][0] for m in g}), default=[])
    values = {m: found[m][0] for m in curve}
    if len(set(values.values())) < 2:
        listed = ", ".join(f"{m}={v:g}" for m, (v, _) in found.items()) or "none"
        alike = " (and no two of them trained alike in every other setting)" if len(set(v for v, _ in found.values())) > 1 else ""
        raise MtbenchError(f"--x {key}: a curve needs models trained with at least two values of the training setting "
                           f"{key} and alike in every other one (models with it: {listed}{alike}; left out: "
                           f"{', '.join(missing) or 'none'}); give a key of mtbench_train.json's config such as steps, "
                           f"lr, data.limit or lat.alpha, or LABEL=V1,V2,... with one run directory per value")
    rivals = [g for g in groups if g is not curve and len({found[m][0] for m in g}) == len(set(values.values()))]
    if rivals:
        raise MtbenchError(f"--x {key}: the run holds several ablations of {key} of the same size ({', '.join(curve)}; "
                           f"{'; '.join(', '.join(g) for g in rivals)}), each trained alike otherwise; report each in a "
                           f"run of its own")
    shared = [v for v in set(values.values()) if list(values.values()).count(v) > 1]
    if shared:
        clash = ", ".join(m for m, v in values.items() if v in shared)
        raise MtbenchError(f"--x {key}: {clash} share a value of {key} and every other setting; a curve has one model "
                           f"per value (report the others in a run of their own)")
    reference = found[curve[0]][1]
    for model, (_, others) in found.items():
        if model not in values:
            differ = _differences(others, reference)
            shown = ", ".join(differ[:4]) + (f" and {len(differ) - 4} more" if len(differ) > 4 else "")
            missing.append(f"{model} (trained unlike the curve's models in {shown})")
    return SettingValues(key, values, missing)


def setting_curves(results: Results, setting: SettingValues, out_dir: Path,
                   named_by_key: bool = False) -> tuple[list[Path], list[str]]:
    """``curve-<metric>.png/.pdf`` (``curve-<metric>-<key>`` when a report draws several
    settings): each metric (display scale) against the setting, one line per scored
    direction; and what could not be drawn (said by the caller)."""
    scored = [results.tasks[t] for t in results.scored_tasks]
    colours = plots.system_colours([t.name for t in scored])
    what = f"{segments_phrase(scored)}{limit_note(results)}"
    points = ", ".join(f"{m} ({x:g})" for m, x in sorted(setting.values.items(), key=lambda kv: kv[1]))
    figs: list[Path] = []
    notes: list[str] = []
    for metric, info in results.metrics.items():
        series: dict[str, list[tuple[float, float]]] = {}
        labels: dict[str, dict[float, str]] = {}
        marked = untested = False
        for task in scored:
            name = task.name + (" (zero-shot)" if task.zero_shot else "")
            scores = {m: task.score(m, metric).score for m in setting.values if task.score(m, metric) is not None}
            marks = _against_best(results, task.name, metric, scores)
            marked, untested = marked or marks is not None, untested or (marks is None and len(scores) > 1)
            for model, value in scores.items():
                x = setting.values[model]
                series.setdefault(name, []).append((x, info.display(value)))
                labels.setdefault(name, {})[x] = f"{info.display(value):.2f}{(marks or {}).get(model, '')}"
        lonely = [k for k, v in series.items() if len(v) < 2]
        if lonely:
            notes.append(f"--x {setting.key}: {metric} on {', '.join(lonely)} has a score for one model only: no line")
        series = {k: v for k, v in series.items() if len(v) > 1}
        if not series:
            continue
        sig = results.significance
        test = (f"° the line's best point, † significantly different from it (p < {sig.alpha:g}, {test_phrase(sig)})"
                if marked else "")
        if untested or not marked:
            test += ("; " if test else "") + "paired significance in leaderboard.md"
        subtitle = f"points: {points}\n{scope_line(results, scored, with_test=False)} · {test}"
        colour_of = {k: colours.get(k.split(" ")[0], "") for k in series}
        figs += plots.curves(series, {k: c for k, c in colour_of.items() if c}, out_dir / f"curve-{file_slug(metric)}{'-' + file_slug(setting.key) if named_by_key else ''}",
                             f"{setting.key} (training setting; one model per point)", info.axis_label(),
                             f"{metric}{' on ' + next(iter(series)) if len(series) == 1 else ''} against "
                             f"{setting.key} — {what}", subtitle,
                             logx=_spans_decades(list(setting.values.values())), point_labels=labels)
    return figs, notes


def _against_best(results: Results, task: str, metric: str, scores: dict[str, float]) -> dict[str, str] | None:
    """° for the best of ``scores`` (in the metric's direction), † for each point that the
    report's own pairwise test (the significance matrix, same resamples as the table)
    finds different from it; None where that matrix does not hold every point."""
    matrix = results.significance.pairwise.get(task, {}).get(metric)
    if matrix is None or len(scores) < 2 or not set(scores) <= set(matrix.systems):
        return None
    sign = 1 if results.metrics[metric].higher_is_better else -1
    top = max(sign * v for v in scores.values())
    best = [m for m in scores if sign * scores[m] == top]  # a tie: each is the best point
    j = matrix.systems.index(best[0])
    marks = {}
    for model in scores:
        p = matrix.p_values[matrix.systems.index(model)][j]
        marks[model] = "°" if model in best else "†" if p is not None and p < results.significance.alpha else ""
    return marks


def _spans_decades(xs: Sequence[float]) -> bool:
    positive = [x for x in xs if x > 0]
    return len(positive) > 1 and max(positive) >= 10 * min(positive)

