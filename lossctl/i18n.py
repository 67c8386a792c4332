"""Messages of ``lossctl diagnose`` in English and Chinese (``--lang zh``).

The Chinese texts are for the readers of the loss-function tutorial; they use its
words for the three pictures (正常训练 / 过拟合 / 学习率太大). Parameter names
(``learning_rate``, ``num_train_epochs``…) stay in English: they are code.

``t(key, lang, **values)`` formats one message; a missing Chinese text falls
back to English (a test checks that both tables have the same keys).
"""

from __future__ import annotations

LANGS = ("en", "zh")

EN: dict[str, str] = {
    # ---- verdicts
    "verdict.converging": "converging",
    "verdict.overfitting": "overfitting",
    "verdict.lr-too-high": "learning rate too high (oscillating, not converging)",
    "verdict.diverged": "diverged",
    "verdict.not-learning": "not learning (flat from the start)",
    "verdict.insufficient-data": "insufficient data",
    "confidence.high": "high",
    "confidence.medium": "medium",
    "confidence.low": "low",
    # ---- tutorial pictures
    "picture.normal": "the tutorial's picture \"normal training\" (正常训练): the loss falls and levels off",
    "picture.overfitting": "the tutorial's picture \"overfitting\" (过拟合): validation loss turns up while training loss keeps falling",
    "picture.lr-too-high": "the tutorial's picture \"learning rate too high\" (学习率太大): the loss oscillates and does not converge",
    "picture.lr-too-high-closest": "none of the tutorial's pictures exactly; closest: \"learning rate too high\" (学习率太大)",
    "picture.none": "none of the tutorial's three pictures",
    # ---- labels in the report
    "label.verdict": "verdict",
    "label.confidence": "confidence",
    "label.picture": "picture",
    "label.evidence": "evidence",
    "label.findings": "findings",
    "label.recommendations": "recommendations",
    "label.best_step": "best checkpoint",
    "label.run": "run",
    "label.none": "none",
    "label.chart": "loss curve",
    "label.chart_eval": "eval loss",
    # ---- evidence lines
    "ev.points": "{n} train-loss points from step {first} to {last}{warmup}",
    "ev.points_eval_main": "no train loss; {n} eval-loss points from step {first} to {last}",
    "ev.warmup": " (warm-up until step {step} excluded)",
    "ev.levels": "loss {l0} at the start → {lend} at the end ({pct} change); noise σ {sigma} ({noise_pct} of the level)",
    "ev.noise": "noise σ {sigma} ({noise_pct} of the level from one point to the next)",
    "ev.eval": "eval loss min {best} at step {step}{epoch}; last {last} ({gl}) over {n} evaluations",
    "ev.eval_epoch": " (epoch {epoch})",
    "ev.train_during": "train loss {a} → {b} from the best eval to the end",
    "ev.schedule": "learning rate {peak} at its peak, {end} at the end ({pct} of the peak)",
    "ev.few_points": "only {n} loss values: too few to say anything",
    # ---- verdict reasons
    "why.nonfinite": "{n} non-finite (NaN/inf) loss values, the first at step {step}",
    "why.nonfinite_gn": "{n} non-finite gradient norms, the first at step {step}",
    "why.hf_signature": "{n} steps log loss 0.0 with grad_norm NaN (the fp16 overflow signature; NaNs hidden by logging_nan_inf_filter), the first at step {step}",
    "why.nan_iterations": "{n} iterations reported as NaN by the framework (first report at step {step})",
    "why.blowup": "the loss blew up: last 10% median {last} vs {l0} at the start and a minimum of {lmin} (around step {step})",
    "why.gn_growth": "gradient norm grew {ratio}× (median {a} → {b}) while the loss rose from its minimum {lmin} to {last}",
    "why.overfitting": "eval loss min {best} at step {step}{epoch}; last {last} ({gl}) while train fell {ta} → {tb}",
    "why.overfitting_weak": "eval loss rose {gl} after its minimum at step {step}, from only {n} evaluations after it",
    "why.oscillating": "block medians wander {amp} around the best non-increasing fit ({q}× what the noise explains) and the second half does not trend down ({change})",
    "why.oscillating_short": "{rises} of {steps} steps go up by more than 5% of the level, {share} of all movement is upward, and the second half does not trend down",
    "why.not_learning": "the loss hardly moved: {l0} → {lend} ({pct}), no significant trend at the end",
    "why.converging": "the loss fell {l0} → {lend} ({pct})",
    "why.short": "only {n} points",
    "why.wander": "no net progress ({l0} → {lend}) while the loss moves up and down by {spread} of its level, far more than noise",
    "why.window": "the loss is flat ({l0} → {lend}) in a log that starts late, at step {step}: a plateau of a run whose start is not in the log",
    # ---- findings
    "f.still-improving": "still improving: the loss fell {change} ({pct}) over the last quarter — training longer should help",
    "f.plateaued": "converged / plateaued: the last quarter changed {change} ({pct}), within the noise",
    "f.schedule-decay": "the learning rate decayed to {pct} of its peak: the late flattening is partly the schedule, not only convergence",
    "f.spikes": "{n} loss spikes ({rec} recovered, {unrec} not) at steps {steps}; largest {height}× the local median",
    "f.noisy": "noisy: the loss jumps by about {pct} from one logged point to the next (σ {sigma}){why}",
    "f.noisy_every_step": " (logged every step)",
    "f.lr-too-low": "learning rate probably too low: slow, almost straight decrease (second half fell {ratio} as much as the first half; total {pct})",
    "f.underfitting": "possible underfitting: the loss levelled off after falling only {pct} ({l0} → {lend})",
    "f.warmup-instability": "warm-up instability: the loss rose to {peak} during warm-up (from {start}) at step {step}",
    "f.hidden-nans": "hidden NaNs: {what}",
    "f.clipping-saturated": "gradient clipping saturated: grad_norm above max_grad_norm={clip} in {pct} of the logged steps (median {median})",
    "f.eval-sparse": "eval too sparse to judge overfitting: {n} eval point(s)",
    "f.no-eval": "no eval loss in the log: overfitting cannot be judged",
    "f.grad-norm-growth": "gradient norm grew {ratio}× (median {a} → {b})",
    "f.too-few-points": "only {n} logged loss points: too few for a detailed reading",
    "f.nonfinite": "{what}",
    # ---- recommendations
    "r.lr_down": "lower the learning rate",
    "r.lr_up10": "the loss does not move: first check labels / masking and that parameters are trainable (initial loss ≈ ln(number of classes)), then raise the learning rate",
    "r.lr_up": "raise the learning rate (the decrease is slow and almost linear)",
    "r.warmup": "warm up the learning rate for longer",
    "r.clip": "keep gradient clipping on",
    "r.bf16": "use bf16 instead of fp16 (no overflow) if the GPU supports it",
    "r.nan_filter": "show NaN/inf losses instead of hiding them",
    "r.resume": "resume from the last checkpoint before step {step} (before the trouble started)",
    "r.best_model": "keep the best checkpoint",
    "r.metric": "select it by eval loss",
    "r.early_stop": "stop when the eval loss has not improved for {p} evaluations (patience counts evaluations; save_steps must match eval_steps)",
    "r.epochs_best": "train about as long as the best eval (epoch {epoch})",
    "r.steps_best": "stop near the best eval (step {step})",
    "r.weight_decay": "regularise more",
    "r.train_longer": "train longer: the loss is still falling",
    "r.batch": "average more samples per step (larger batch or gradient accumulation)",
    "r.logging_every_step": "log less often (the points are single-batch losses)",
    "r.logging_more": "log more often (aim for 100–300 points)",
    "r.eval_more": "evaluate more often so overfitting can be seen",
    "r.eval_add": "add an eval set and evaluate during training",
    "r.lr_spikes": "lower the learning rate or increase warm-up: the spikes did not recover",
    "r.clip_saturated": "clipping acts on almost every step: the learning rate is probably too high for this model",
    "r.none": "nothing to change: the run looks healthy",
    "r.keras_early": "Keras: EarlyStopping(monitor=\"val_loss\", patience={p}, restore_best_weights=True)",
    "r.lightning_early": "Lightning: EarlyStopping(monitor=\"val_loss\", patience={p}) + ModelCheckpoint(monitor=\"val_loss\", save_top_k=1)",
    "r.keras_lr": "Keras: ReduceLROnPlateau(monitor=\"loss\", factor=0.3, patience=2); Lightning: lower lr in configure_optimizers and add a ReduceLROnPlateau scheduler",
    "r.keras_nan": "Keras: TerminateOnNaN(); Lightning: Trainer(gradient_clip_val=1.0, detect_anomaly=True) and EarlyStopping(check_finite=True)",
    "r.keras_longer": "Keras / Lightning: more epochs (epochs= / max_epochs=)",
}

ZH: dict[str, str] = {
    "verdict.converging": "正常收敛",
    "verdict.overfitting": "过拟合",
    "verdict.lr-too-high": "学习率太大（震荡不收敛）",
    "verdict.diverged": "发散（NaN/inf 或爆炸）",
    "verdict.not-learning": "没有在学习（从一开始就平坦）",
    "verdict.insufficient-data": "数据不足",
    "confidence.high": "高",
    "confidence.medium": "中",
    "confidence.low": "低",
    "picture.normal": "教程中的图「正常训练」：Loss 平稳下降并收敛",
    "picture.overfitting": "教程中的图「过拟合」：验证 Loss 开始上升，训练 Loss 仍在下降",
    "picture.lr-too-high": "教程中的图「学习率太大」：Loss 震荡不收敛",
    "picture.lr-too-high-closest": "与教程中的三幅图都不完全一致；最接近「学习率太大」",
    "picture.none": "不属于教程中的三幅图",
    "label.verdict": "结论",
    "label.confidence": "置信度",
    "label.picture": "对应的图",
    "label.evidence": "证据",
    "label.findings": "发现",
    "label.recommendations": "建议",
    "label.best_step": "最佳检查点",
    "label.run": "运行",
    "label.none": "无",
    "label.chart": "Loss 曲线",
    "label.chart_eval": "验证 Loss",
    "ev.points": "{n} 个训练 Loss 点，从第 {first} 步到第 {last} 步{warmup}",
    "ev.points_eval_main": "没有训练 Loss；{n} 个验证 Loss 点，从第 {first} 步到第 {last} 步",
    "ev.warmup": "（已排除预热阶段，到第 {step} 步）",
    "ev.levels": "Loss 从开始的 {l0} 到结束的 {lend}（变化 {pct}）；噪声 σ {sigma}（为水平的 {noise_pct}）",
    "ev.noise": "噪声 σ {sigma}（相邻点之间约为水平的 {noise_pct}）",
    "ev.eval": "验证 Loss 最小值 {best} 在第 {step} 步{epoch}；最后 {last}（{gl}），共 {n} 次评估",
    "ev.eval_epoch": "（第 {epoch} 轮）",
    "ev.train_during": "从最佳验证点到结束，训练 Loss {a} → {b}",
    "ev.schedule": "学习率峰值 {peak}，结束时 {end}（峰值的 {pct}）",
    "ev.few_points": "只有 {n} 个 Loss 值：太少，无法判断",
    "why.nonfinite": "{n} 个非有限（NaN/inf）Loss 值，第一个在第 {step} 步",
    "why.nonfinite_gn": "{n} 个非有限梯度范数，第一个在第 {step} 步",
    "why.hf_signature": "{n} 步记录 loss 0.0 且 grad_norm 为 NaN（fp16 溢出的特征；NaN 被 logging_nan_inf_filter 隐藏），第一个在第 {step} 步",
    "why.nan_iterations": "框架报告 {n} 次 NaN 迭代（第一次在第 {step} 步）",
    "why.blowup": "Loss 爆炸：最后 10% 的中位数 {last}，开始时 {l0}，最小值 {lmin}（约第 {step} 步）",
    "why.gn_growth": "梯度范数增长了 {ratio} 倍（中位数 {a} → {b}），同时 Loss 从最小值 {lmin} 升到 {last}",
    "why.overfitting": "验证 Loss 最小值 {best} 在第 {step} 步{epoch}；最后 {last}（{gl}），而训练 Loss 从 {ta} 降到 {tb}",
    "why.overfitting_weak": "验证 Loss 在第 {step} 步的最小值之后上升了 {gl}，但之后只有 {n} 次评估",
    "why.oscillating": "分块中位数围绕最佳非递增拟合波动 {amp}（是噪声能解释的 {q} 倍），后半段没有下降趋势（{change}）",
    "why.oscillating_short": "{steps} 步中有 {rises} 步上升超过水平的 5%，{share} 的变化是向上的，后半段没有下降趋势",
    "why.not_learning": "Loss 几乎没有变化：{l0} → {lend}（{pct}），结尾没有显著趋势",
    "why.converging": "Loss 从 {l0} 降到 {lend}（{pct}）",
    "why.short": "只有 {n} 个点",
    "why.wander": "没有净进展（{l0} → {lend}），而 Loss 上下波动达到水平的 {spread}，远超噪声",
    "why.window": "Loss 平坦（{l0} → {lend}），但日志从第 {step} 步才开始：这是一段平台期，训练的开头不在日志中",
    "f.still-improving": "仍在改善：最后四分之一期间 Loss 下降了 {change}（{pct}）——继续训练应该有帮助",
    "f.plateaued": "已收敛 / 进入平台期：最后四分之一变化 {change}（{pct}），在噪声范围内",
    "f.schedule-decay": "学习率已衰减到峰值的 {pct}：后期变平部分是学习率调度造成的，不只是收敛",
    "f.spikes": "{n} 个 Loss 尖峰（{rec} 个已恢复，{unrec} 个未恢复），位于第 {steps} 步；最大为局部中位数的 {height} 倍",
    "f.noisy": "噪声大：相邻记录点之间 Loss 大约跳动 {pct}（σ {sigma}）{why}",
    "f.noisy_every_step": "（每一步都记录）",
    "f.lr-too-low": "学习率可能太小：下降缓慢且几乎是直线（后半段的下降是前半段的 {ratio}；总共 {pct}）",
    "f.underfitting": "可能欠拟合：Loss 只下降了 {pct} 就停住了（{l0} → {lend}）",
    "f.warmup-instability": "预热不稳定：预热期间 Loss 在第 {step} 步升到 {peak}（开始时 {start}）",
    "f.hidden-nans": "隐藏的 NaN：{what}",
    "f.clipping-saturated": "梯度裁剪饱和：{pct} 的记录步中 grad_norm 超过 max_grad_norm={clip}（中位数 {median}）",
    "f.eval-sparse": "验证点太少，无法判断是否过拟合：只有 {n} 个验证点",
    "f.no-eval": "日志中没有验证 Loss：无法判断是否过拟合",
    "f.grad-norm-growth": "梯度范数增长了 {ratio} 倍（中位数 {a} → {b}）",
    "f.too-few-points": "只记录了 {n} 个 Loss 点：太少，无法细读",
    "f.nonfinite": "{what}",
    "r.lr_down": "降低学习率",
    "r.lr_up10": "Loss 不动：先检查标签 / 掩码以及参数是否可训练（初始 Loss ≈ ln(类别数)），再提高学习率",
    "r.lr_up": "提高学习率（下降缓慢且几乎是直线）",
    "r.warmup": "延长学习率预热",
    "r.clip": "保持梯度裁剪",
    "r.bf16": "如果 GPU 支持，用 bf16 代替 fp16（不会溢出）",
    "r.nan_filter": "显示 NaN/inf Loss，不要隐藏",
    "r.resume": "从第 {step} 步之前（问题出现之前）的最后一个检查点恢复训练",
    "r.best_model": "保留最佳检查点",
    "r.metric": "按验证 Loss 选择最佳检查点",
    "r.early_stop": "验证 Loss 连续 {p} 次评估没有改善就停止（patience 按评估次数计；save_steps 必须与 eval_steps 一致）",
    "r.epochs_best": "训练轮数约为最佳验证点所在的轮数（第 {epoch} 轮）",
    "r.steps_best": "在最佳验证点附近停止（第 {step} 步）",
    "r.weight_decay": "加强正则化",
    "r.train_longer": "继续训练：Loss 仍在下降",
    "r.batch": "每步平均更多样本（更大的 batch 或梯度累积）",
    "r.logging_every_step": "减少记录频率（每个点只是单个 batch 的 Loss）",
    "r.logging_more": "更频繁地记录（目标是 100–300 个点）",
    "r.eval_more": "更频繁地评估，才能看出是否过拟合",
    "r.eval_add": "加入验证集，并在训练中评估",
    "r.lr_spikes": "降低学习率或延长预热：尖峰没有恢复",
    "r.clip_saturated": "几乎每一步都在裁剪梯度：对这个模型来说学习率可能太大",
    "r.none": "无需修改：训练看起来是健康的",
    "r.keras_early": "Keras：EarlyStopping(monitor=\"val_loss\", patience={p}, restore_best_weights=True)",
    "r.lightning_early": "Lightning：EarlyStopping(monitor=\"val_loss\", patience={p}) + ModelCheckpoint(monitor=\"val_loss\", save_top_k=1)",
    "r.keras_lr": "Keras：ReduceLROnPlateau(monitor=\"loss\", factor=0.3, patience=2)；Lightning：在 configure_optimizers 中降低 lr 并加上 ReduceLROnPlateau 调度器",
    "r.keras_nan": "Keras：TerminateOnNaN()；Lightning：Trainer(gradient_clip_val=1.0, detect_anomaly=True) 和 EarlyStopping(check_finite=True)",
    "r.keras_longer": "Keras / Lightning：增加训练轮数（epochs= / max_epochs=）",
}

TABLES = {"en": EN, "zh": ZH}


def check_lang(lang: str) -> str:
    from lossctl.errors import UsageError

    lang = (lang or "en").lower()
    if lang.startswith("zh"):
        lang = "zh"
    if lang not in TABLES:
        raise UsageError(f"unknown --lang {lang!r}", hint="choose one of: " + ", ".join(LANGS))
    return lang


def t(key: str, lang: str = "en", **values) -> str:
    """The message ``key`` in ``lang``, formatted with ``values``."""
    table = TABLES.get(lang, EN)
    template = table.get(key) or EN[key]
    return template.format(**values) if values else template
