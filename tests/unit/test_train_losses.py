"""The training losses against values worked out by hand with ``math`` (never by the
functions under test), plus the TIM noise model and LAT's conflicting language."""

from __future__ import annotations

import math
import random

import pytest

torch = pytest.importorskip("torch")

from mtbench.train import losses  # noqa: E402
from mtbench.train.data import add_noise, conflicting_language  # noqa: E402
from tests.tolerance import close  # noqa: E402

IGN = -100


def softmax(xs: list[float]) -> list[float]:
    z = sum(math.exp(x) for x in xs)
    return [math.exp(x) / z for x in xs]


# One sequence of 3 positions over a 3-token vocabulary. With the causal shift, logits at
# position t score the label at t+1; label[0] is never scored.
ROWS = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 2.0]]


def batch(labels: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.tensor([ROWS]), torch.tensor([labels])


def test_masked_nll_ignores_prompt_positions() -> None:
    # labels: [prompt, prompt(-100), 2]: only position 1's logits predicting token 2 count.
    logits, labels = batch([IGN, IGN, 2])
    expected = -math.log(softmax(ROWS[1])[2])
    assert losses.masked_nll(logits, labels).item() == close(expected)
    # Two targets: mean of the two token NLLs (position 0 -> token 1, position 1 -> token 2).
    logits, labels = batch([IGN, 1, 2])
    expected2 = (-math.log(softmax(ROWS[0])[1]) - math.log(softmax(ROWS[1])[2])) / 2
    assert losses.masked_nll(logits, labels).item() == close(expected2)
    # The last position's logits predict nothing (no label after it): changing them is a no-op.
    changed = logits.clone()
    changed[0, 2] = torch.tensor([9.0, -9.0, 0.0])
    assert losses.masked_nll(changed, labels).item() == close(expected2)


def test_masked_nll_pools_tokens_over_the_batch() -> None:
    # Row A has 2 target tokens, row B 1: the mean is over 3 tokens, not over 2 rows.
    logits = torch.tensor([ROWS, ROWS])
    labels = torch.tensor([[IGN, 1, 2], [IGN, IGN, 0]])
    nlls = [-math.log(softmax(ROWS[0])[1]), -math.log(softmax(ROWS[1])[2]), -math.log(softmax(ROWS[1])[0])]
    assert losses.masked_nll(logits, labels).item() == close(sum(nlls) / 3)


def test_unlikelihood_on_a_known_distribution() -> None:
    logits, labels = batch([IGN, 1, 2])
    p1 = softmax(ROWS[0])[1]
    p2 = softmax(ROWS[1])[2]
    expected = (-math.log(1 - p1) - math.log(1 - p2)) / 2
    assert losses.unlikelihood(logits, labels).item() == close(expected)


def test_unlikelihood_clamps_a_certain_token() -> None:
    # p(y) == 1 in float32: 1 - p is 0, clamped at 1e-9, so the loss is -log(1e-9).
    logits = torch.tensor([[[0.0, 200.0, 0.0], [0.0, 0.0, 0.0]]])
    labels = torch.tensor([[IGN, 1]])
    assert losses.unlikelihood(logits, labels).item() == pytest.approx(-math.log(1e-9), rel=1e-5)


def test_lat_combination_uses_alpha() -> None:
    assert losses.lat_stage2_loss(torch.tensor(2.0), torch.tensor(4.0)).item() == pytest.approx(2.0 + 0.05 * 4.0)
    assert losses.lat_stage2_loss(torch.tensor(2.0), torch.tensor(4.0), alpha=0.5).item() == pytest.approx(4.0)


def test_sequence_logprob_sum_and_mean() -> None:
    logits = torch.tensor([ROWS, ROWS])
    labels = torch.tensor([[IGN, 1, 2], [IGN, IGN, 0]])
    a = math.log(softmax(ROWS[0])[1]) + math.log(softmax(ROWS[1])[2])
    b = math.log(softmax(ROWS[1])[0])
    total, mean = losses.sequence_logprob(logits, labels)
    assert total.tolist() == close([a, b])
    assert mean.tolist() == close([a / 2, b])


# TIM: chosen and rejected share the prompt (ids 5, 6) and diverge at position 2.
CHOSEN = torch.tensor([[5, 6, 7, 8, 0]])
REJECTED = torch.tensor([[5, 6, 9, 8, 4]])
C_MASK = torch.tensor([[1, 1, 1, 1, 0]])  # length 4
R_MASK = torch.tensor([[1, 1, 1, 1, 1]])  # length 5 -> compare positions 2, 3, 4
RC = torch.tensor([[0.0, 0.0, 2.0, 0.5, 1.0]])
RR = torch.tensor([[9.0, 9.0, 1.5, 1.0, -1.0]])  # positions 0-1 must not count


def test_tim_sigmoid_preference_on_known_rewards() -> None:
    diffs = [2.0 - 1.5, 0.5 - 1.0, 1.0 - (-1.0)]
    expected = sum(-math.log(1 / (1 + math.exp(-d))) for d in diffs) / 3
    got = losses.tim_preference_loss(RC, RR, CHOSEN, REJECTED, C_MASK, R_MASK, "sigmoid")
    assert got.item() == close(expected)


def test_tim_margin_preference_on_known_rewards() -> None:
    # y = [a > b] = [1, 0, 1]; terms: max(0, 1 - 0.5) = 0.5, constant 1, max(0, 1 - 2) = 0.
    # MarginRankingLoss mean = (0.5 + 1 + 0) / 3, then TIM divides by n = 3 again.
    expected = (0.5 + 1.0 + 0.0) / 3 / 3
    got = losses.tim_preference_loss(RC, RR, CHOSEN, REJECTED, C_MASK, R_MASK, "margin")
    assert got.item() == close(expected)


def test_tim_preference_averages_over_the_batch_and_skips_no_divergence_at_0() -> None:
    # Second pair differs at position 0 (d = 0): skipped, but the batch size stays 2.
    chosen = torch.cat([CHOSEN, torch.tensor([[1, 2, 3, 0, 0]])])
    rejected = torch.cat([REJECTED, torch.tensor([[2, 2, 3, 0, 0]])])
    cm = torch.cat([C_MASK, torch.tensor([[1, 1, 1, 0, 0]])])
    rm = torch.cat([R_MASK, torch.tensor([[1, 1, 1, 0, 0]])])
    rc = torch.cat([RC, torch.zeros(1, 5)])
    rr = torch.cat([RR, torch.ones(1, 5)])
    diffs = [0.5, -0.5, 2.0]
    one = sum(math.log(1 + math.exp(-d)) for d in diffs) / 3
    got = losses.tim_preference_loss(rc, rr, chosen, rejected, cm, rm, "sigmoid")
    assert got.item() == close(one / 2)


def test_tim_total_loss() -> None:
    assert losses.tim_loss(torch.tensor(1.5), torch.tensor(0.25)).item() == pytest.approx(1.75)
    assert losses.tim_loss(torch.tensor(1.5), torch.tensor(0.25), alpha=0.5).item() == pytest.approx(1.625)


def test_losses_have_gradients_only_through_targets() -> None:
    logits = torch.tensor([ROWS], requires_grad=True)
    losses.masked_nll(logits, torch.tensor([[IGN, IGN, 2]])).backward()
    assert logits.grad is not None
    assert logits.grad[0, 0].abs().sum().item() == 0.0  # predicts a prompt token
    assert logits.grad[0, 1].abs().sum().item() > 0.0


def test_noise_is_seeded_and_changes_the_text() -> None:
    text = "the quick brown fox jumps over the lazy dog again and again"
    a = add_noise(text, random.Random(3))
    assert a == add_noise(text, random.Random(3))
    assert a != text
    assert set(a.split()) <= set(text.split())  # deletes, repeats, swaps: no new words
    assert add_noise("hello world", random.Random(0), 0.0, 0.0, 0) == "world hello"  # forced change
    assert add_noise("hello", random.Random(0), 0.0, 0.0, 0) == "hello hello"


def test_conflicting_language_is_wrong_and_seeded() -> None:
    langs = ["en", "de", "cs", "ru"]
    picks = [conflicting_language("en", "de", langs, random.Random(7)) for _ in range(3)]
    assert len(set(picks)) == 1 and picks[0] in ("cs", "ru")
    rng = random.Random(1)
    assert {conflicting_language("en", "de", langs, rng) for _ in range(30)} == {"cs", "ru"}


def test_noise_is_per_character_for_unspaced_cjk() -> None:
    out = add_noise("我们早上喝咖啡晚上喝茶", random.Random(5))
    assert " " not in out and out != "我们早上喝咖啡晚上喝茶"
    assert set(out) <= set("我们早上喝咖啡晚上喝茶")
