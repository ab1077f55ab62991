"""Training losses of the methods mtbench compares, as plain torch functions.

Every function takes the model's *unshifted* ``logits`` (batch, time, vocab) and
``labels`` (batch, time) exactly as a Hugging Face causal LM sees them (``labels`` is
``input_ids`` with prompt and padding positions set to ``ignore_index``) and does the
causal shift itself: position t's logits predict token t+1, so the first label and the
last logit are dropped. That is the convention of both seeds' code (LAT ``train.py``,
TIM ``reward_model.py``: ``logits[..., :-1, :]`` against ``labels[..., 1:]``), so a
batch built once can be fed to any loss here.

Seeds, pinned to the commits read:

- LAT: github.com/alphadl/LanguageAware_Tuning @ b69a120a497bde9d1e90acf831eaaf0615a2e224,
  ``train.py`` (``CustomTrainer.compute_loss`` l.302-336, ``compute_negative_loss``
  l.338-363).
- TIM: github.com/lemon0830/TIM @ 58764732da8348a734011375d1caa2d87cad49ef,
  ``sft_reward_training/trainer/utils/model/reward_model.py`` (``RewardModel.forward``,
  l.132-189), and the paper-time version of the same file @
  a2d16f12f49cab15768bf0529c99d84a175c618e (l.130-182; still in ``inference/utils/model/
  reward_model.py`` at HEAD, l.164-170).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100
UL_CLAMP_MIN = 1e-9  # LAT train.py l.355: torch.clamp(1.0 - probs, min=1e-9)

TimVariant = Literal["margin", "sigmoid"]


def shift(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits at t aligned with the label at t+1 (the causal-LM shift)."""
    if logits.shape[:2] != labels.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(labels.shape)} disagree on (batch, time)")
    return logits[:, :-1, :], labels[:, 1:]


def token_logprobs(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(log p(y_t | y_<t), mask)``, both (batch, time-1), after the shift. Masked
    positions hold 0 so sums over them are safe; ``mask`` is 1.0 on target tokens.
    Log-softmax runs in float32: bf16 log-probs lose the differences the losses need."""
    lg, lb = shift(logits, labels)
    mask = lb.ne(ignore_index)
    safe = lb.masked_fill(~mask, 0)
    logp = torch.log_softmax(lg.float(), dim=-1).gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    return logp * mask, mask.to(logp.dtype)


def masked_nll(logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Mean negative log-likelihood over all target tokens of the batch (shift inside).

    Token-level mean pooled over the whole batch, i.e. ``nn.CrossEntropyLoss()`` with its
    default ``ignore_index=-100`` on flattened shifted logits: LAT ``train.py`` l.317-328,
    TIM ``reward_model.py`` l.132-139 (the MLE part of both methods), ALMA through HF's
    ``LlamaForCausalLM`` loss. Longer targets therefore weigh more than short ones. A
    batch with no target token gives 0 (not NaN), so a fully truncated row cannot poison
    a step."""
    logp, mask = token_logprobs(logits, labels, ignore_index)
    n = mask.sum()
    return -(logp.sum()) / n.clamp(min=1.0)


def unlikelihood(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX, clamp_min: float = UL_CLAMP_MIN
) -> torch.Tensor:
    """Mean of ``-log(1 - p(y_t))`` over all target tokens of the batch (shift inside).

    LAT ``compute_negative_loss`` (``train.py`` l.338-363): softmax over the shifted
    logits, ``torch.log(torch.clamp(1.0 - probs, min=1e-9))``, then ``nn.NLLLoss()``
    (mean over non-ignored tokens, negated). Minimising it pushes down the probability
    of the original output under an instruction that names the wrong target language.

    The clamp: when the model is already sure of y_t, ``1 - p`` rounds to 0 and the log
    is -inf; clamping at ``clamp_min`` (LAT's 1e-9) caps one token's loss at
    ``-log(1e-9)`` ~ 20.7 and zeroes its gradient there. ``p`` is taken as
    ``exp(log_softmax)`` in float32 (same value as LAT's softmax, steadier in bf16)."""
    logp, mask = token_logprobs(logits, labels, ignore_index)
    one_minus = torch.clamp(1.0 - torch.exp(logp), min=clamp_min)
    per_token = -torch.log(one_minus) * mask
    return per_token.sum() / mask.sum().clamp(min=1.0)


def lat_stage2_loss(mle_part: torch.Tensor, ul_part: torch.Tensor, alpha: float = 0.05) -> torch.Tensor:
    """LAT stage 2: ``mle + alpha * ul``.

    LAT ``train.py`` l.335: ``loss += self.args.alpha * negative_loss`` where ``loss`` is
    the token-mean cross entropy of the correct samples (``masked_nll``) and
    ``negative_loss`` the token-mean unlikelihood of the same samples with a conflicting
    instruction (``unlikelihood``); each is a mean over its own batch's target tokens,
    not per sequence. ``alpha`` defaults to 0.05 (``TrainingArguments.alpha``, l.81-84;
    the paper's value)."""
    return mle_part + alpha * ul_part


def sequence_logprob(
    logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = IGNORE_INDEX
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sequence ``(sum, mean)`` of target-token log-probabilities (shift inside).

    The mean divides by the sequence's own number of target tokens (0 for a row
    without targets). Used for diagnostics and reranking; TIM itself ranks with a
    reward head, see :func:`tim_preference_loss`."""
    logp, mask = token_logprobs(logits, labels, ignore_index)
    total = logp.sum(dim=-1)
    return total, total / mask.sum(dim=-1).clamp(min=1.0)


def _last_real(mask: torch.Tensor) -> torch.Tensor:
    """Index one past the last attended position of each row (right padding)."""
    width = mask.shape[-1]
    pos = torch.arange(1, width + 1, device=mask.device).expand_as(mask)
    return (pos * mask.long()).max(dim=-1).values


def tim_preference_loss(
    chosen_rewards: torch.Tensor,
    rejected_rewards: torch.Tensor,
    chosen_ids: torch.Tensor,
    rejected_ids: torch.Tensor,
    chosen_mask: torch.Tensor,
    rejected_mask: torch.Tensor,
    variant: TimVariant = "margin",
) -> torch.Tensor:
    """TIM's token-level ranking loss between a preferred and a dispreferred output.

    TIM does *not* rank sequence log-probabilities: a linear head ``v_head =
    nn.Linear(hidden, 1, bias=False)`` (``reward_model.py`` l.32) scores every position
    of the last hidden state, and for each pair i (same prompt, right-padded to one
    width) the loss compares the two rows' scores position by position from the first
    position where the token ids differ (``d``) to ``end = max(len_chosen, len_rejected)``
    (l.147-181; ``len`` = first pad index there, here the attended length, which is the
    same for right padding with a distinct pad token). Pairs with ``d <= 0`` are skipped
    but still counted in the batch mean (l.173-174, l.187). Identical rows compare only
    the last position (l.156-159).

    ``variant="margin"`` (TIM HEAD, since commit 00cfdd6 "We update the preference loss
    ... more stable", l.143, 182-187)::

        a, b   = r_chosen[d:end], r_rejected[d:end]          (n = end - d positions)
        y_j    = [a_j > b_j]
        pair_i = (1/n) * mean_j( y_j * max(0, 1 - (a_j - b_j)) + (1 - y_j) * 1 )

    i.e. ``MarginRankingLoss(margin=1.0)(a, b, y)`` with a 0/1 target (not TIM's usual
    +-1), divided once more by n. Positions where the preferred score is not already
    higher contribute a constant 1 and no gradient; only pairs already in the right order
    are pushed to a margin of 1. Reproduced as written.

    ``variant="sigmoid"`` (the paper-time code, a2d16f1, l.176; still in
    ``inference/utils/model/reward_model.py`` at HEAD l.164)::

        pair_i = mean_j( -log sigmoid(a_j - b_j) )

    Both return ``sum_i pair_i / batch``. How it joins the MLE loss: :func:`tim_loss`."""
    if chosen_ids.shape != rejected_ids.shape:
        raise ValueError("chosen and rejected rows must be padded to the same width (TIM pads both to block_size)")
    bs, width = chosen_ids.shape
    c_end = _last_real(chosen_mask)
    r_end = _last_real(rejected_mask)
    total = chosen_rewards.new_zeros(())
    for i in range(bs):
        differ = (chosen_ids[i] != rejected_ids[i]).nonzero()
        if len(differ) == 0:
            end = width
            d = end - 1
        else:
            end = int(max(c_end[i], r_end[i]))
            d = int(differ[0])
        if d <= 0:
            continue
        a = chosen_rewards[i, d:end].float()
        b = rejected_rewards[i, d:end].float()
        if variant == "margin":
            y = (a > b).float()
            per = y * torch.clamp(1.0 - (a - b), min=0.0) + (1.0 - y) * 1.0
            total = total + per.mean() / len(a)
        elif variant == "sigmoid":
            total = total + (-F.logsigmoid(a - b)).mean()
        else:
            raise ValueError(f"unknown TIM preference variant {variant!r} (use 'margin' or 'sigmoid')")
    return total / bs


def tim_loss(mle_part: torch.Tensor, pref_part: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """TIM's total loss: ``mle + alpha * preference``.

    ``mle`` is the token-mean cross entropy of the *preferred* rows only (l.124-139:
    ``labels[:bs]``; the dispreferred rows get no likelihood term). At HEAD the ranking
    loss is added unweighted (l.189, ``loss = loss + r_loss``; ``rl_alpha`` only switches
    it on), so ``alpha=1.0`` reproduces it; the paper-time sigmoid variant weighted it by
    ``rl_alpha`` (a2d16f1 l.182), 0.5 in ``sft_reward_training/run_lora.sh`` (``RATE``)."""
    return mle_part + alpha * pref_part
