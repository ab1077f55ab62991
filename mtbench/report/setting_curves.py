"""A metric against a training setting, from one run: `mtbench report RUN --x lat.alpha`.

An ablation (LAT's unlikelihood weight alpha, steps, lr, data.limit) trains one model per
value of a setting and scores them together. Each model's value is read from the record
`mtbench train` leaves in its checkpoint (``mtbench_train.json``, key ``config``, dotted
path): the checkpoint is the folder the run's backend loaded (the manifest's model
fingerprint), or else a ``--train-log`` folder of the same name. No value is typed by hand,
so a curve cannot put a model at the wrong x. One line per direction, one point per model.
Models without the setting (a base model, a system file) are named in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from mtbench.errors import MtbenchError
from mtbench.report import plots
from mtbench.report.scope import limit_note, scope_line, segments_phrase
from mtbench.results import Results
from mtbench.models.fingerprint import weights_sha256
from mtbench.textio import read_json

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


def setting_values(run_dir: Path, results: Results, key: str, train_logs: Sequence[str] = ()) -> SettingValues:
    """Each model's value of the training setting ``key``, from the checkpoints that
    ``run_dir``'s manifest says were loaded (or ``--train-log`` folders of the same name
    and weights); a one-line error when fewer than two models have distinct values."""
    names = [Path(p).name for p in train_logs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MtbenchError(f"--x {key}: several --train-log folders are named {', '.join(twice)}; a model is matched to "
                           f"its folder by name, so give each checkpoint a folder name of its own")
    by_name = {Path(p).name: Path(p) for p in train_logs if Path(p).is_dir()}
    manifest_path = run_dir / "manifest.json"
    manifest = _read(manifest_path) if manifest_path.is_file() else {}
    values: dict[str, float] = {}
    missing: list[str] = []
    for model in results.models:
        entry = (manifest.get("models") or {}).get(model) or {}
        folder, why = _checkpoint(entry.get("fingerprint") or {}, by_name)
        if folder is None:
            missing.append(f"{model} ({why})")
            continue
        value = _lookup(_read(folder / TRAIN_RECORD).get("config", {}), key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            missing.append(f"{model} (no number at {key} in {folder / TRAIN_RECORD})")
            continue
        values[model] = float(value)
    if len(set(values.values())) < 2:
        found = ", ".join(f"{m}={v:g}" for m, v in values.items()) or "none"
        raise MtbenchError(f"--x {key}: a curve needs models trained with at least two values of the training setting "
                           f"{key} (models with it: {found}; left out: {', '.join(missing) or 'none'}); give a key of "
                           f"mtbench_train.json's config such as steps, lr, data.limit or lat.alpha, or LABEL=V1,V2,... "
                           f"with one run directory per value")
    shared = [v for v in set(values.values()) if list(values.values()).count(v) > 1]
    if shared:
        clash = ", ".join(m for m, v in values.items() if v in shared)
        raise MtbenchError(f"--x {key}: {clash} share a value of {key}; a curve has one model per value "
                           f"(report the others in a run of their own)")
    return SettingValues(key, values, missing)


def setting_curves(results: Results, setting: SettingValues, out_dir: Path) -> tuple[list[Path], list[str]]:
    """``curve-<metric>.png/.pdf``: each metric (display scale) against the setting, one
    line per scored direction; and what could not be drawn (said by the caller)."""
    scored = [results.tasks[t] for t in results.scored_tasks]
    colours = plots.system_colours([t.name for t in scored])
    what = f"{segments_phrase(scored)}{limit_note(results)}"
    points = ", ".join(f"{m} ({x:g})" for m, x in sorted(setting.values.items(), key=lambda kv: kv[1]))
    subtitle = (f"points: {points}\n{scope_line(results, scored, with_test=False)} · no error bars: "
                f"paired significance in leaderboard.md")
    figs: list[Path] = []
    notes: list[str] = []
    for metric, info in results.metrics.items():
        series: dict[str, list[tuple[float, float]]] = {}
        for task in scored:
            for model, x in setting.values.items():
                score = task.score(model, metric)
                if score is not None:
                    series.setdefault(task.name + (" (zero-shot)" if task.zero_shot else ""), []).append(
                        (x, info.display(score.score)))
        lonely = [k for k, v in series.items() if len(v) < 2]
        if lonely:
            notes.append(f"--x {setting.key}: {metric} on {', '.join(lonely)} has a score for one model only: no line")
        series = {k: v for k, v in series.items() if len(v) > 1}
        if not series:
            continue
        colour_of = {k: colours.get(k.split(" ")[0], "") for k in series}
        figs += plots.curves(series, {k: c for k, c in colour_of.items() if c}, out_dir / f"curve-{_slug(metric)}",
                             f"{setting.key} (training setting; one model per point)", info.axis_label(),
                             f"{metric}{' on ' + next(iter(series)) if len(series) == 1 else ''} against "
                             f"{setting.key} — {what}", subtitle,
                             logx=_spans_decades(list(setting.values.values())))
    return figs, notes


def _spans_decades(xs: Sequence[float]) -> bool:
    positive = [x for x in xs if x > 0]
    return len(positive) > 1 and max(positive) >= 10 * min(positive)


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)
