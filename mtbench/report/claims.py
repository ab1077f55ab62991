"""A paper's claim, tested: `mtbench report/compare --claim "..." --expect "A > B: bleu"`.

An expectation names two systems of the report, the metrics on which the first should
be better (in each metric's own direction: lower off-target is better) and, optionally,
the directions the claim is about (``on zero-shot``, ``on supervised`` or task names:
the XGLM study's and LAT's claims are about directions unseen in training). Each
(metric, direction) is one paired test of A against B with the report's test settings.
The verdict follows one stated rule:

- reproduced: for every metric, A is significantly better in at least one direction,
  and significantly worse in none;
- not reproduced: A is significantly worse in some direction;
- inconclusive: neither; the report says how many segments per direction the observed
  differences would need for 80% power (``mtbench.stats.segments_for_power``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from mtbench.errors import MtbenchError
from mtbench.registry import did_you_mean
from mtbench.results import Results
from mtbench.significance import SignificanceOptions
from mtbench.stats import POWER, PairedTest

VERDICTS = ("reproduced", "not reproduced", "inconclusive")


@dataclass(frozen=True)
class Expectation:
    better: str  # the system the claim says is better
    worse: str
    metrics: tuple[str, ...]  # empty: every metric of the report
    text: str  # as written
    directions: tuple[str, ...] = ()  # "zero-shot", "supervised" or task names; empty: every direction

    @classmethod
    def parse(cls, text: str) -> "Expectation":
        # The scope is what follows the last " on " after the '>' (an " on " before it
        # belongs to a system name).
        scoped = re.fullmatch(r"(.*>.*?)\s+on(?:\s+([^>]*?))?\s*", text, flags=re.S)
        body, on, scope = (scoped.group(1), "on", scoped.group(2) or "") if scoped else (text, "", "")
        m = re.fullmatch(r"\s*(.+?)\s*>\s*(.+?)\s*(?::\s*([\w,.\- ]+))?\s*", body)
        directions = tuple(x.strip() for x in scope.split(",") if x.strip())
        if not m or ">" in m.group(2) or (on and not directions):
            raise MtbenchError(f"--expect {text!r}: write SYSTEM_A > SYSTEM_B, optionally followed by ': metric,metric' "
                               f"and 'on zero-shot|supervised|TASK,...' (e.g. 'tim+alma > mle+alma: bleu,chrf on zero-shot')")
        metrics = tuple(x.strip() for x in (m.group(3) or "").split(",") if x.strip())
        return cls(m.group(1), m.group(2), metrics, text.strip(), directions)

    def check(self, results: Results) -> None:
        """Names of systems, metrics and directions that are not in the report: one line, did-you-mean."""
        models = list(results.models)
        for name in (self.better, self.worse):
            if name not in results.models:
                raise MtbenchError(f"--expect {self.text!r}: {name!r} is not a system of this report: "
                                   f"{did_you_mean(name, models)}")
        for metric in self.metrics:
            if metric not in results.metrics:
                raise MtbenchError(f"--expect {self.text!r}: metric {metric!r} was not scored: "
                                   f"{did_you_mean(metric, list(results.metrics))}")
        self.tasks(results)

    def tasks(self, results: Results) -> list[str]:
        """The scored directions the claim is about, in the report's order."""
        scored = list(results.scored_tasks)
        if not self.directions:
            return scored
        chosen: set[str] = set()
        for d in self.directions:
            if d in GROUPS:
                group = [t for t in scored if results.tasks[t].zero_shot == (d == "zero-shot")]
                if not any(results.tasks[t].zero_shot for t in scored):
                    group = []  # unmarked: "supervised" would silently mean every direction
                if not group:
                    marked = "marks none as zero-shot" if not any(results.tasks[t].zero_shot for t in scored) \
                        else "marks every direction as zero-shot"
                    raise MtbenchError(f"--expect {self.text!r}: no {d} direction in this report (its task list {marked}; "
                                       f"a suite's zero_shot: key says which are)")
                chosen.update(group)
            elif d in scored:
                chosen.add(d)
            else:
                raise MtbenchError(f"--expect {self.text!r}: direction {d!r} is not scored in this report: "
                                   f"{did_you_mean(d, list(GROUPS) + scored)} (what follows the last ' on ' is the "
                                   f"directions; rename a system whose name has ' on ' with ?name=)")
        return [t for t in scored if t in chosen]

    def scope(self) -> str:
        named = [f"{d} directions" if d in GROUPS else d for d in self.directions]
        return f" on {', '.join(named)}" if named else ""


GROUPS = ("zero-shot", "supervised")


@dataclass(frozen=True)
class Finding:
    """A against B on one metric in one direction."""

    metric: str
    task: str
    better_score: float  # display scale
    worse_score: float
    delta: float  # better - worse, display scale
    p_value: float
    verdict: str  # "better", "worse" (significantly, in the metric's direction) or "same"
    ahead: bool  # A's score is the better one in the metric's direction (significantly or not)
    segments: int
    segments_for_power: int | None


@dataclass(frozen=True)
class ClaimResult:
    claim: str
    expectation: Expectation
    findings: tuple[Finding, ...]
    verdict: str
    reason: str
    test: str  # how the paired tests ran

    def headline(self) -> str:
        return f"{self.verdict}: {self.reason}"


def evaluate(claim: str, expectation: Expectation, results: Results, statistics: Any, metrics: Mapping[str, Any],
             options: SignificanceOptions) -> ClaimResult:
    """``statistics(task, model, metric)``: per-segment statistics; ``metrics``: name ->
    object with ``aggregate`` and ``higher_is_better`` (the report's metric objects)."""
    expectation.check(results)
    names = expectation.metrics or tuple(results.metrics)
    test = options.test if options.test != "none" else "bs"  # a claim is always tested
    findings = []
    signature = ""
    for metric in names:
        info = results.metrics[metric]
        for task_name in expectation.tasks(results):
            task = results.tasks[task_name]
            a, b = task.score(expectation.better, metric), task.score(expectation.worse, metric)
            if a is None or b is None:
                continue
            paired = PairedTest({expectation.worse: statistics(task_name, expectation.worse, metric),
                                 expectation.better: statistics(task_name, expectation.better, metric)},
                                metrics[metric], test, n=options.n, seed=options.seed)
            r = paired.against(expectation.worse)[expectation.better]
            ahead = r.delta != 0 and (r.delta > 0) == info.higher_is_better
            findings.append(Finding(metric, task_name, info.display(a.score), info.display(b.score),
                                    info.display(r.delta), float(r.p_value), r.verdict(options.alpha), ahead, r.segments,
                                    r.segments_for_power(options.alpha)))
            signature = paired.signature
    if not findings:
        raise MtbenchError(f"--expect {expectation.text!r}: the two systems share no scored direction"
                           f"{expectation.scope()} of {', '.join(names)}; nothing to test")
    verdict, reason = _verdict(expectation, names, findings, options.alpha)
    how = f"paired {'bootstrap' if test == 'bs' else 'approximate randomization'} (`{signature}`), p < {options.alpha:g}"
    return ClaimResult(claim, expectation, tuple(findings), verdict, reason, how)


def _verdict(exp: Expectation, metrics: Sequence[str], findings: Sequence[Finding], alpha: float) -> tuple[str, str]:
    worse = [f for f in findings if f.verdict == "worse"]
    if worse:
        where = ", ".join(f"{f.metric} on {f.task}" for f in worse)
        return "not reproduced", f"{exp.better} is significantly worse than {exp.worse} ({where})"
    missing = [m for m in metrics if not any(f.metric == m and f.verdict == "better" for f in findings)]
    if not missing:
        counts = ", ".join(f"{m} in {sum(f.metric == m and f.verdict == 'better' for f in findings)} of "
                           f"{sum(f.metric == m for f in findings)} direction(s)" for m in metrics)
        return "reproduced", f"{exp.better} is significantly better than {exp.worse} ({counts}{exp.scope()}), and worse nowhere"
    ahead = [f for f in findings if f.metric in missing and f.ahead and f.segments_for_power is not None]
    need = max((f.segments_for_power or 0) for f in ahead) if ahead else None
    tail = (f"; the differences in {exp.better}'s favour would need up to {need:,} segments per direction for "
            f"{POWER:.0%} power" if need else f"; {exp.better} is not ahead on {', '.join(missing)}")
    return "inconclusive", (f"no significant difference on {', '.join(missing)} at p < {alpha:g} "
                            f"(segments per direction: {', '.join(sorted({str(f.segments) for f in findings}))}){tail}")


def render_markdown(results_: Sequence[ClaimResult], scope: str) -> str:
    lines = ["# Claims", ""]
    grouped = by_claim(results_)
    for c in [t for tested in grouped.values() for t in tested]:  # each claim's expectations together
        exp = c.expectation
        tested = grouped[c.claim]
        if c is tested[0]:
            lines += [f"> {c.claim}", ""]
            if len(tested) > 1:
                lines += [f"**Verdict of the claim: {combined_verdict([t.verdict for t in tested])}** — "
                          f"{len(tested)} expectations below; reproduced only when every one is, not reproduced "
                          f"when any is not.", ""]
        lines += [f"Expectation `{exp.text}`: `{exp.better}` better than `{exp.worse}` on {', '.join(sorted({f.metric for f in c.findings}))} "
                  f"(each metric's own direction){exp.scope()}, {c.test}; scope: {scope}.", "",
                  f"**Verdict: {c.verdict}** — {c.reason}.", "",
                  "| metric | direction | A | B | A − B | p | verdict | segments | for 80% power |",
                  "|---|---|---:|---:|---:|---:|---|---:|---:|"]
        for f in c.findings:
            power = f"{f.segments_for_power:,}" if f.segments_for_power is not None else "–"
            lines.append(f"| {f.metric} | {f.task} | {f.better_score:.2f} | {f.worse_score:.2f} | {f.delta:+.2f} | "
                         f"{f.p_value:.4f} | {f.verdict} | {f.segments:,} | {power} |")
        lines += ["", f"A = `{exp.better}`, B = `{exp.worse}`. Rule: reproduced when A is significantly better in "
                      f"at least one direction of every metric and significantly worse in none; not reproduced when "
                      f"A is significantly worse anywhere; inconclusive otherwise.", ""]
    return "\n".join(lines)


def combined_verdict(verdicts: Sequence[str]) -> str:
    """One claim tested by several expectations: reproduced only when every one is, not
    reproduced when any is not, inconclusive otherwise."""
    if "not reproduced" in verdicts:
        return "not reproduced"
    return "reproduced" if all(v == "reproduced" for v in verdicts) else "inconclusive"


def by_claim(results_: Sequence[ClaimResult]) -> dict[str, list[ClaimResult]]:
    grouped: dict[str, list[ClaimResult]] = {}
    for c in results_:
        grouped.setdefault(c.claim, []).append(c)
    return grouped


def render_opening(results_: Sequence[ClaimResult]) -> str:
    """The lines that open summary.md: each claim once, its verdict,
    and with several expectations the verdict of each."""
    parts = []
    for claim, tested in by_claim(results_).items():
        if len(tested) == 1:
            parts.append(f"> {claim}\n\n**Verdict: {tested[0].verdict}** — {tested[0].reason} "
                         f"(`{tested[0].expectation.text}`; claims.md).\n\n")
            continue
        lines = [f"> {claim}", "",
                 f"**Verdict: {combined_verdict([c.verdict for c in tested])}** — {len(tested)} expectations, "
                 f"reproduced only when every one is (claims.md):", ""]
        lines += [f"- `{c.expectation.text}`: **{c.verdict}** — {c.reason}" for c in tested]
        parts.append("\n".join(lines) + "\n\n")
    return "".join(parts)


def provenance_lines(results_: Sequence[ClaimResult]) -> list[str]:
    """index.html's opening lines: the claim, its verdict, each expectation's."""
    out = []
    for claim, tested in by_claim(results_).items():
        out.append(f"claim: {claim} — verdict: {combined_verdict([c.verdict for c in tested])}"
                   + (f" ({tested[0].reason})" if len(tested) == 1 else ""))
        if len(tested) > 1:
            out += [f"expectation {c.expectation.text}: {c.verdict} ({c.reason})" for c in tested]
    return out
