"""Unit tests of the text log formats (lossctl/logs/<format>.py) on tricky lines,
and the real logs of those families checked point by point against the raw text."""

from __future__ import annotations

import math
import re

import pytest

from lossctl.logs import (
    avgmeter,
    caffe,
    dllogger,
    fairseq,
    keras_console,
    megatron,
    mmdet_text,
    nanogpt,
    plaintext,
    timm,
)
from lossctl.logs._textutil import NUM_RE, to_float
from lossctl.logs.base import ParseContext

from conftest import REAL_LOGS

TEXT_MODULES = [megatron, keras_console, nanogpt, mmdet_text, fairseq, timm, caffe, dllogger,
                avgmeter, plaintext]


def run(mod, text: str, ctx: ParseContext | None = None):
    ctx = ctx or ParseContext()
    return list(mod.parse(text.strip("\n").split("\n"), ctx)), ctx


def points(recs, split="train", metric="loss"):
    return [(r.step, r.value) for r in recs if r.split == split and r.metric == metric]


def same(a, b):
    """Lists of (step, value) equal, NaN equal to NaN."""
    assert len(a) == len(b), (a, b)
    for (s1, v1), (s2, v2) in zip(a, b):
        assert s1 == s2, (a, b)
        assert (math.isnan(v1) and math.isnan(v2)) or v1 == v2, (a, b)


# ------------------------------------------------------------------ numbers

@pytest.mark.parametrize("text,value", [
    ("1.210588E+01", 12.10588), ("6.000E-05", 6e-05), ("nan", math.nan), ("NAN", math.nan),
    ("-nan", math.nan), ("inf", math.inf), ("-inf", -math.inf), ("Infinity", math.inf), ("5.", 5.0),
])
def test_numbers_as_logs_print_them(text, value):
    assert NUM_RE.fullmatch(text)
    got = to_float(text)
    assert (math.isnan(got) and math.isnan(value)) or got == value


def test_to_float_junk_is_none():
    assert to_float("xent") is None and to_float("") is None


# ------------------------------------------------------------------ detection

HF_DICT = "{'loss': 2.157, 'grad_norm': 4.91, 'learning_rate': 4.8e-05, 'epoch': 0.36}\n" * 5
JSONL = '{"loss": 2.157, "step": 10, "epoch": 0.1}\n' * 5
CSV = "epoch,train_loss,val_loss\n1,0.5,0.6\n2,0.4,0.5\n3,0.3,0.45\n"


@pytest.mark.parametrize("mod", TEXT_MODULES, ids=lambda m: m.NAME)
@pytest.mark.parametrize("sample", [HF_DICT, JSONL, CSV], ids=["hf-dict", "jsonl", "csv"])
def test_text_formats_do_not_claim_structured_logs(mod, sample):
    assert mod.detect(sample) < 0.2


@pytest.mark.parametrize("mod", TEXT_MODULES, ids=lambda m: m.NAME)
def test_example_line_is_detected_and_parsed_by_its_module(mod):
    sample = mod.EXAMPLE + "\n" + mod.EXAMPLE.split("\n")[-1] + "\n"
    assert mod.detect(sample) >= 0.3
    recs, _ = run(mod, sample)
    assert any(r.metric == "loss" for r in recs)


def test_plaintext_scores_stay_below_the_specific_formats():
    text = "Epoch [1/5], Train Loss: 1.9, Val Loss: 1.8\n" * 10
    assert 0 < plaintext.detect(text) <= 0.5
    meg = (" iteration 10/ 100 | lm loss: 1.0E+01 | loss scale: 1.0 |\n") * 3
    assert megatron.detect(meg) > plaintext.detect(meg)


def test_fairseq_needs_its_zero_padded_epoch():
    assert fairseq.detect("epoch 3 | loss 0.5\nepoch 4 | loss 0.4\n") == 0.0
    assert fairseq.detect("epoch 003 | loss 0.5 | num_updates 10\nepoch 004 | loss 0.4 | num_updates 20\n") >= 0.9


# ------------------------------------------------------------------ megatron

MEG = """
  loss_scale ...................................... 12.0
[Rank 3] (after 10 iterations) memory (MB) | allocated: 2243.6 | max allocated: 4410.1 |
 iteration       10/    1000 | learning rate: 1.875E-05 | lm loss: 1.095103E+01 | loss scale: 65536.0 | grad norm: 12.408 | number of skipped iterations:   0 | number of nan iterations:   0 |
 iteration       20/    1000 | learning rate: 3.750E-05 | loss scale: 1024.0 | number of skipped iterations:  10 | number of nan iterations:  10 |
 validation loss at iteration 20 | lm loss value: 8.801234E+00 | lm loss PPL: 6.642390E+03 |
 validation loss at the end of training for test data | lm loss value: 7.712000E+00 | lm loss PPL: 2.237412E+03 |
 iteration       30/    1000 | consumed samples:         3840 | elapsed time per iteration (ms): 7
"""


def test_megatron_loss_scale_is_not_a_loss_and_missing_loss_is_nan():
    recs, ctx = run(megatron, MEG)
    same(points(recs), [(10.0, 10.95103), (20.0, math.nan)])
    assert points(recs, "train", "loss_scale") == [(10.0, 65536.0), (20.0, 1024.0)]
    assert points(recs, "train", "nan_iterations") == [(10.0, 0.0), (20.0, 10.0)]
    assert points(recs, "train", "skipped_iterations") == [(10.0, 0.0), (20.0, 10.0)]
    assert points(recs, "eval") == [(20.0, 8.801234)]
    assert points(recs, "eval", "perplexity") == [(20.0, 6642.39)]
    assert points(recs, "test") == [(20.0, 7.712)]
    assert ctx.skipped == 1 and ctx.skipped_examples[0] == (7, "cut Megatron iteration line")


def test_megatron_other_loss_keys_keep_their_name():
    line = " iteration 5/ 10 | lm loss: 2.0E+00 | sop loss: 6.9E-01 | loss scale: 1.0 |"
    recs, _ = run(megatron, line)
    assert {(r.metric, r.value) for r in recs} == {("loss", 2.0), ("sop_loss", 0.69), ("loss_scale", 1.0)}


# ------------------------------------------------------------------ keras

def test_keras_only_the_final_frame_of_an_epoch_counts():
    text = (
        "Epoch 1/2\n"
        "  1/250 [>....] - ETA: 1:00 - loss: 2.3000\r250/250 [=====] - 3s 12ms/step - loss: 0.5000 - val_loss: 0.6000\n"
        "Epoch 2/2\n"
        # frames glued once the reader dropped the backspaces between them
        "  1/250 [>....] - ETA: 9s - loss: 0.4500120/250 [==>..] - ETA: 2s - loss: 0.4400250/250 [=====] - 3s 12ms/step - loss: 0.4321 - val_loss: 0.5000\n"
    )
    recs, _ = run(keras_console, text.replace("\r", "\n"))
    assert points(recs) == [(1.0, 0.5), (2.0, 0.4321)]
    assert points(recs, "eval") == [(1.0, 0.6), (2.0, 0.5)]
    assert {r.epoch for r in recs} == {1.0, 2.0}


def test_keras3_counter_below_total_is_a_progress_frame_and_cut_epochs_are_noted():
    text = (
        "Epoch 1/2\n"
        " 12/250 ━━━━━━━━━━━━━━━━━━━━ 2s 10ms/step - accuracy: 0.8200 - loss: 0.5100\n"
        "250/250 ━━━━━━━━━━━━━━━━━━━━ 3s 9ms/step - accuracy: 0.8450 - loss: 0.4711\n"
        "Epoch 2/2\n"
        " 12/250 ━━━━━━━━━━━━━━━━━━━━ 2s 10ms/step - accuracy: 0.8300 - loss: 0.4500\n"
    )
    recs, ctx = run(keras_console, text)
    assert points(recs) == [(1.0, 0.4711)]
    assert ctx.notes == ["epoch 2 has only progress frames (log cut?); left out"]


def test_keras_evaluate_after_fit_is_test_and_callback_lines_are_ignored():
    text = (
        "Epoch 1/1\n"
        "63/63 - 2s - loss: nan - accuracy: 0.5010 - val_loss: nan - 2s/epoch - 31ms/step\n"
        "Epoch 1: ReduceLROnPlateau reducing learning rate to 0.0001.\n"
        "10/10 [==============================] - 0s 2ms/step - loss: 0.7000 - accuracy: 0.5000\n"
    )
    recs, _ = run(keras_console, text)
    same(points(recs), [(1.0, math.nan)])
    same(points(recs, "eval"), [(1.0, math.nan)])
    assert points(recs, "test") == [(1.0, 0.7)]


# ------------------------------------------------------------------ nanoGPT family

def test_nanogpt_eval_estimate_does_not_collide_with_iteration_loss():
    text = """
step 0: train loss 4.2874, val loss 4.2823
iter 0: loss 4.2654, time 29981.10ms, mfu -100.00%
iter 10: loss nan, time 19.99ms, mfu 18.65%
"""
    recs, _ = run(nanogpt, text)
    same(points(recs), [(0.0, 4.2654), (10.0, math.nan)])
    assert points(recs, "train", "estimated_loss") == [(0.0, 4.2874)]
    assert points(recs, "eval") == [(0.0, 4.2823)]


def test_nanogpt_eval_estimate_is_the_train_loss_without_iteration_lines():
    recs, _ = run(nanogpt, "step 0: train loss 4.2874, val loss 4.2823\nstep 250: train loss 1.9703, val loss 2.0661")
    assert points(recs) == [(0.0, 4.2874), (250.0, 1.9703)]


def test_build_nanogpt_validation_takes_the_step_of_the_next_step_line():
    text = """
validation loss: 10.9507
HellaSwag accuracy: 2455/10042=0.2445
rank 0 sample 1: Hello, I'm a language model, step 3 | loss: 99.0
step     0 | loss: 10.955029 | lr 8.3916e-07 | norm: 15.4135 | dt: 32101.25ms | tok/sec: 16332.46
step   249 | loss: 6.221601 | lr 5.9977e-04 | norm: 0.4993 | dt: 407.13ms | tok/sec: 1287764.06
validation loss: 6.2648
"""
    recs, _ = run(nanogpt, text)
    assert points(recs) == [(0.0, 10.955029), (249.0, 6.221601)]
    assert points(recs, "eval") == [(0.0, 10.9507), (250.0, 6.2648)]
    assert points(recs, "eval", "hellaswag_accuracy") == [(0.0, 0.2445)]
    assert points(recs, "train", "grad_norm") == [(0.0, 15.4135), (249.0, 0.4993)]


def test_build_nanogpt_log_txt_and_modded_nanogpt():
    recs, _ = run(nanogpt, "0 val 10.9522\n0 hella 0.2487\n0 train 10.955010\n1 train 10.014891")
    assert points(recs) == [(0.0, 10.95501), (1.0, 10.014891)]
    assert points(recs, "eval") == [(0.0, 10.9522)]
    recs, _ = run(nanogpt, "step:0/3000 val_loss:10.8258 train_time:0ms step_avg:0.02ms\n"
                           "step:1/3000 train_loss:10.9 train_time:326ms step_avg:nanms\n"
                           "step:2/3000 train_time:589ms step_avg:294.29ms")
    assert points(recs, "eval") == [(0.0, 10.8258)]
    assert points(recs) == [(1.0, 10.9)]
    assert [r.time for r in recs] == [0.0, 0.326]


# ------------------------------------------------------------------ OpenMMLab

def test_mmdet_v2_global_step_and_eval_line_in_train_mode():
    text = """
mmdet - INFO - Epoch [1][50/361]	lr: 2.473e-04, eta: 1:20:05, time: 1.122, data_time: 0.305, memory: 6874, loss_cls: 1.1899, acc: 73.9214, loss: 1.4563
mmdet - INFO - Epoch [1][361/361]	lr: 1.801e-03, bbox_mAP: 0.0370, bbox_mAP_50: 0.0810, bbox_mAP_copypaste: 0.037 0.081 0.029
mmdet - INFO - Epoch [2][50/361]	lr: 2.050e-03, eta: 1:04:16, time: 0.977, data_time: 0.240, memory: 6898, loss_cls: 0.2463, acc: 93.7769, loss: nan
"""
    recs, _ = run(mmdet_text, text)
    same(points(recs), [(50.0, 1.4563), (411.0, math.nan)])
    assert points(recs, "train", "accuracy") == [(50.0, 73.9214), (411.0, 93.7769)]
    assert sorted((r.metric, r.step, r.epoch) for r in recs if r.split == "eval") == [
        ("bbox_mAP", 361.0, 1.0), ("bbox_mAP_50", 361.0, 1.0)]
    assert not any(r.metric in ("eta", "time", "memory", "data_time") for r in recs)


def test_mmengine_val_step_is_end_of_epoch_and_iter_val_forms():
    text = """
Epoch(train)  [1][200/200]  base_lr: 2.0000e-02 lr: 7.9880e-03  eta: 0:12:40  time: 0.4119  data_time: 0.0149  memory: 3308  grad_norm: nan  loss: 1.0513
Epoch(val)  [1][ 50/125]    eta: 0:00:07  time: 0.0631  data_time: 0.0021  memory: 812
Epoch(val) [1][125/125]    coco/bbox_mAP: 0.2120  data_time: 0.0020  time: 0.0618
Iter(train) [  300/90000]  lr: 2.0000e-02  eta: 9:00:00  time: 0.3601  loss: 0.8810
Iter(val) [500/500]    aAcc: 0.7012  mIoU: 0.2104
Iter(val) [16000]	mIoU: 0.3300
"""
    recs, _ = run(mmdet_text, text)
    assert points(recs) == [(200.0, 1.0513), (300.0, 0.881)]
    assert points(recs, "eval", "coco/bbox_mAP") == [(200.0, 0.212)]
    assert points(recs, "eval", "mIoU") == [(300.0, 0.2104), (16000.0, 0.33)]
    assert math.isnan(points(recs, "train", "grad_norm")[0][1])


# ------------------------------------------------------------------ fairseq

def test_fairseq_summary_is_epoch_metric_when_inner_lines_exist():
    text = """
epoch 001:    100 / 225 loss=12.981, nll_loss=12.802, ppl=7141.53, wps=23512.1, num_updates=100, lr=1.25e-05, gnorm=3.512
epoch 001 | valid on 'valid' subset | loss 10.512 | nll_loss 10.102 | ppl 1098.97 | wps 51220.4 | num_updates 225 | best_loss 10.512
epoch 001 | loss 12.001 | nll_loss 11.764 | ppl 3478.2 | wps 23401.8 | num_updates 225 | lr 2.8125e-05
"""
    recs, _ = run(fairseq, text)
    assert points(recs) == [(100.0, 12.981)]
    assert points(recs, "train", "epoch_loss") == [(225.0, 12.001)]
    assert points(recs, "eval") == [(225.0, 10.512)]
    assert points(recs, "eval", "perplexity") == [(225.0, 1098.97)]
    assert not any(r.metric in ("wps", "best_loss", "num_updates") for r in recs)


def test_fairseq_summary_only_json_and_old_valid_format():
    text = """
| epoch 001 | loss 4.281 | nll_loss 2.9 | ppl 7.46 | num_updates 100
| valid on 'valid' subset | valid_loss 4.28 | valid_ppl 19.4 | num_updates 100
{"epoch": 2, "train_loss": "3.9", "train_ppl": "14.9", "train_wps": "9000", "train_num_updates": "200"}
{"epoch": 2, "valid_loss": "NaN", "valid_wps": "90122.2", "valid_num_updates": "200", "valid_best_loss": "3.1"}
"""
    recs, _ = run(fairseq, text)
    assert points(recs) == [(100.0, 4.281), (200.0, 3.9)]
    same(points(recs, "eval"), [(100.0, 4.28), (200.0, math.nan)])
    assert {r.metric for r in recs if r.split == "eval"} == {"loss", "perplexity"}


# ------------------------------------------------------------------ timm / avgmeter

def test_timm_current_value_and_eval_pass_average():
    text = """
Train: 2 [   0/100 (  0%)]  Loss: 5.354 (5.330)  Time: 0.312s, 410.21/s  (0.320s, 400.00/s)  LR: 1.000e-03  Data: 0.001 (0.002)
Test: [   0/20]  Time: 1.1 (1.1)  Loss:  6.8811 (6.8811)  Acc@1:  0.0000 ( 0.0000)
Test: [  20/20]  Time: 0.05 (0.1)  Loss:  6.9013 (6.8977)  Acc@1:  0.0000 ( 0.1250)
"""
    recs, _ = run(timm, text)
    assert points(recs) == [(200.0, 5.354)]
    assert points(recs, "train", "learning_rate") == [(200.0, 0.001)]
    assert points(recs, "eval") == [(300.0, 6.8977)]
    assert points(recs, "eval", "Acc@1") == [(300.0, 0.125)]


def test_avgmeter_continuation_meters_summary_and_cut_line():
    text = (
        "Epoch: [0][0/250]\tTime 3.923 (3.923)\tData 0.411 (0.411)\tLoss 13.0603 (13.0603)\n"
        "Prec@1     0.000 (0.000)\tPrec@5     4.167 (4.167)\n"
        "Prec@1   k 0.000 (0.000)\tPrec@5   k 4.167 (4.167)\n"
        "cos_sim_loss  0.296 (0.296)\n"
        "loss1,loss2,feature_center_loss 5.456 5.509 1.0\n"
        "Test: [0/242]\tTime 0.604 (0.604)\tLoss 3.5332 (3.5332)\n"
        "Prec@1     100.000 (100.000)\tPrec@5     100.000 (100.000)\n"
        "Test: [240/242]\tTime 0.641 (0.642)\tLoss 4.6884 (6.4444)\n"
        "Prec@1     83.333 (52.282)\tPrec@5     95.833 (80.360)\n"
        " * Prec@1     52.365 Prec@5 80.394\n"
        "Save best model at checkpoint/bird/model_best.pth.tar== [1]\n"
        "Epoch: [1][0/250]\tTime 1.154 (1.154)\tData 0.366 (0.366)\tLoss 6.3077 (6.3077)\n"
        "Epoch: [1][10/250]\tTime 1.154 (1.160)\tData 0.363 (0.369)\tLos"
    )
    recs, ctx = run(avgmeter, text)
    assert points(recs) == [(0.0, 13.0603), (250.0, 6.3077)]
    assert points(recs, "train", "Prec@1") == [(0.0, 0.0)]
    assert points(recs, "train", "prec@1_k") == [(0.0, 0.0)]
    assert points(recs, "train", "cos_sim_loss") == [(0.0, 0.296)]
    assert points(recs, "train", "feature_center_loss") == [(0.0, 1.0)]
    assert points(recs, "eval") == [(250.0, 6.4444)]          # the pass average
    assert points(recs, "eval", "Prec@1") == [(250.0, 52.365)]  # the summary wins
    assert not any(r.metric.lower() in ("time", "data") for r in recs)
    assert ctx.skipped == 1


def test_avgmeter_summary_pairs_with_qualifiers():
    assert avgmeter._summary_pairs("Acc@1 76.130 Acc@5 92.862") == [("Acc@1", 76.13), ("Acc@5", 92.862)]
    assert avgmeter._summary_pairs("Prec@1   k 49.206 Prec@5 001 78.840") == [
        ("Prec@1 k", 49.206), ("Prec@5 001", 78.84)]


# ------------------------------------------------------------------ caffe / dllogger

def test_caffe_glog_lines():
    text = """
I0412 10:23:43.001234  4821 solver.cpp:330] Iteration 0, Testing net (#0)
I0412 10:23:44.211987  4821 solver.cpp:397]     Test net output #0: accuracy = 0.1031
I0412 10:23:44.212023  4821 solver.cpp:397]     Test net output #1: loss = 2.30853 (* 1 = 2.30853 loss)
I0412 10:23:46.949931  4821 solver.cpp:218] Iteration 200 (74.19 iter/s, 1.348s/100 iters), loss = -nan
I0412 10:23:46.949968  4821 solver.cpp:237]     Train net output #0: loss = -nan (* 1 = -nan loss)
I0412 10:23:46.949985  4821 sgd_solver.cpp:105] Iteration 200, lr = 0.00985258
I0412 10:23:49.401112  4821 solver.cpp:330] Iteration 500, Testing net (#1)
I0412 10:23:50.100212  4821 solver.cpp:397]     Test net output #0: accuracy = 0.9688
"""
    recs, _ = run(caffe, text)
    same(points(recs), [(200.0, math.nan)])
    same(points(recs, "train", "output_loss"), [(200.0, math.nan)])
    assert points(recs, "train", "learning_rate") == [(200.0, 0.00985258)]
    assert points(recs, "eval") == [(0.0, 2.30853)]
    assert points(recs, "eval", "accuracy") == [(0.0, 0.1031)]
    assert points(recs, "test", "accuracy") == [(500.0, 0.9688)]


def test_dllogger_json_steps_become_global_and_parameters_go_to_hparams():
    text = "\n".join([
        'DLLL {"type": "PARAMETER", "data": {"batch_size": 256}}',
        'DLLL {"type": "LOG", "step": "PARAMETER", "data": {"lr": 0.256}}',
        'DLLL {"type": "METADATA", "metric": "train.loss", "metadata": {"unit": null}}',
        'DLLL {"elapsedtime": "12.4", "type": "LOG", "step": [0, 0], "data": {"train.loss": 6.9412, "train.compute_ips": 1201.2}}',
        'DLLL {"elapsedtime": "22.4", "type": "LOG", "step": [0, 10], "data": {"train.loss": "NaN"}}',
        'DLLL {"type": "LOG", "step": [0], "data": {"train.loss": 6.7031, "val.loss": 6.6512}}',
        'DLLL {"type": "LOG", "step": [1, 0], "data": {"train.loss": 6.5122}}',
        'DLLL {"type": "LOG", "step": [], "data": {"val.top1": 1.04}}',
    ])
    recs, ctx = run(dllogger, text)
    same(points(recs), [(0.0, 6.9412), (10.0, math.nan), (20.0, 6.5122)])
    assert points(recs, "train", "epoch_loss") == [(10.0, 6.7031)]
    assert points(recs, "eval") == [(10.0, 6.6512)]
    assert recs[0].time == 12.4
    assert ctx.hparams == {"lr": 0.256, "final_val.top1": 1.04}
    assert not any("ips" in r.metric for r in recs)


def test_dllogger_text_format():
    text = """
DLL 2021-02-03 10:01:18.101201 - PARAMETER batch_size : 256  lr : 0.256
DLL 2021-02-03 10:01:30.512310 - Epoch: 0 Iteration: 1  train.loss : 6.94120  train.compute_ips : 1201.21 img/s
Epoch: 0 Iteration: 2  train.loss : 6.81200
Epoch: 0 Validation Iteration: 1  val.loss : 6.90110
(1, 1) train.loss : inf
"""
    recs, ctx = run(dllogger, text)
    assert points(recs) == [(1.0, 6.9412), (2.0, 6.812), (3.0, math.inf)]
    assert points(recs, "eval") == [(2.0, 6.9011)]
    assert ctx.hparams == {"batch_size": "256", "lr": "0.256"}


# ------------------------------------------------------------------ plaintext

def test_plaintext_config_lines_are_not_losses():
    text = """
  loss_scale ...................................... 12.0
Config: {"loss": "xent", "loss_type": "ce"}
Namespace(loss_scale=128.0, lr=0.1)
loss_type: 2, loss_weight=1.0, loss_scale: 512
Epoch 1: Loss = 2.5  ████████
"""
    recs, _ = run(plaintext, text)
    assert [(r.step, r.split, r.metric, r.value) for r in recs] == [(1.0, "train", "loss", 2.5)]


def test_plaintext_split_words_carry_to_the_next_labels():
    recs, _ = run(plaintext, "Epoch 0 |   Train Loss: 11.2338 | Token Acc: 0.0490 |   Val Loss: 10.9681 | Token Acc: 0.0660")
    assert [(r.split, r.metric, r.value) for r in recs] == [
        ("train", "loss", 11.2338), ("train", "token_acc", 0.049),
        ("eval", "loss", 10.9681), ("eval", "token_acc", 0.066)]


def test_plaintext_line_split_word_percent_and_trailing_period():
    text = """
Training Epoch: 1, Loss: 0.2149.
Validating Epoch: 1, accuracy: 0.9444, Pk: 0.3352 .
Testing Epoch: 1, accuracy: 94.52%, Pk: 0.3372
"""
    recs, _ = run(plaintext, text)
    assert [(r.step, r.split, r.metric, r.value) for r in recs] == [
        (1.0, "train", "loss", 0.2149), (1.0, "eval", "accuracy", 0.9444), (1.0, "eval", "pk", 0.3352),
        (1.0, "test", "accuracy", 94.52), (1.0, "test", "pk", 0.3372)]


def test_plaintext_chinese_labels_and_full_width_colons():
    text = "训练次数：100, Loss：1.98\n训练次数：200, 训练损失：nan\n第 1 轮 验证损失：1.2503，准确率：0.6120"
    recs, _ = run(plaintext, text)
    same(points(recs), [(100.0, 1.98), (200.0, math.nan)])
    assert [(r.step, r.epoch, r.metric, r.value) for r in recs if r.split == "eval"] == [
        (200.0, 1.0, "loss", 1.2503), (200.0, 1.0, "accuracy", 0.612)]


def test_plaintext_batch_lines_vs_one_line_per_epoch():
    batches = """
Epoch 1 - Batch loss: 12.1336
Epoch 1 - Batch loss: 14.9769
Epoch 1 - Average Train Loss: 13.5552
Epoch 2 - Batch loss: 6.2086
"""
    recs, _ = run(plaintext, batches)
    assert points(recs) == [(1.0, 12.1336), (2.0, 14.9769), (3.0, 6.2086)]
    assert points(recs, "train", "epoch_loss") == [(2.0, 13.5552)]
    per_epoch = "Epoch 1 - Average Train Loss: 1.6\nEpoch 2 - Average Train Loss: 0.56\nEpoch 1 - Average Train Loss: 1.7"
    recs, _ = run(plaintext, per_epoch)
    assert points(recs) == [(1.0, 1.6), (2.0, 0.56), (1.0, 1.7)]


def test_plaintext_bare_pairs_need_three_in_a_row():
    recs, _ = run(plaintext, "some header\n3 0.5\nanother line\n0 2.30\n100 1.98\n200 nan\n300 1.5e+00")
    same(points(recs), [(0.0, 2.3), (100.0, 1.98), (200.0, math.nan), (300.0, 1.5)])


def test_plaintext_run_banners_start_runs():
    text = """
Running with config {'lr': 0.1}
Training Epoch: 1, Loss: 0.2149.
Running with config {'lr': 0.2}
Training Epoch: 1, Loss: 0.2169.
Training Epoch: 2, Loss: 0.192.
"""
    recs, _ = run(plaintext, text)
    assert [(r.run, r.step, r.value) for r in recs] == [(1, 1.0, 0.2149), (2, 1.0, 0.2169), (2, 2.0, 0.192)]


# ------------------------------------------------------------------ real logs, point by point

# (file, module, split, metric, regex giving the printed values in file order)
REAL = [
    ("megatron__01.out", megatron, "train", "loss", r"lm loss: ([^ |]+)", 62),
    ("megatron__02.txt", megatron, "train", "loss", r"lm loss: ([^ |]+)", 11),
    ("megatron__03.txt", megatron, "train", "loss", r"lm loss: ([^ |]+)", 8),
    ("keras_console__01.txt", keras_console, "train", "loss", r"\s- loss: ([^ ]+)", 329),
    ("keras_console__01.txt", keras_console, "eval", "loss", r"val_loss: ([^ ]+)", 329),
    ("keras_console__02.txt", keras_console, "train", "loss", r"\s- loss: ([^ \r]+)", 1700),
    ("build_nanogpt__01.out", nanogpt, "train", "loss", r"^step +\d+ \| loss: ([^ ]+)", 19073),
    ("build_nanogpt__01.out", nanogpt, "eval", "loss", r"^validation loss: ([^ ]+)$", 78),
    ("modded_nanogpt__01.txt", nanogpt, "eval", "loss", r"val_loss:([^ ]+)", 31),
    ("mmdet_v2_text__01.log", mmdet_text, "train", "loss", r" loss: ([^ ,]+)$", 84),
    ("pytorch_avgmeter__01.log", avgmeter, "train", "loss", r"^Epoch: .*\tLoss ([^ ]+) ", 1972),
    ("plaintext_epoch__01.log", plaintext, "train", "loss", r"Train Loss: ([^ ,]+)", 29),
    ("plaintext_epoch__01.log", plaintext, "eval", "loss", r"Val Loss: ([^ ,]+)", 29),
    ("plaintext_epoch__02.log", plaintext, "train", "loss", r"Batch loss: ([^ ,]+)$", 7760),
    ("plaintext_epoch__03.log", plaintext, "train", "loss", r"Training Epoch: \d+, Loss: ([0-9.]+[0-9])", 7),
    ("plaintext_epoch__04.log", plaintext, "train", "loss", r"Train Loss: ([^ ,]+)", 52),
    ("plaintext_epoch__04.log", plaintext, "eval", "loss", r"Val Loss: ([^ ,]+)", 52),
]


@pytest.mark.parametrize("name,mod,split,metric,pattern,count", REAL,
                         ids=[f"{r[0]}-{r[2]}" for r in REAL])
def test_real_log_every_loss_point_as_printed(name, mod, split, metric, pattern, count):
    path = REAL_LOGS / name
    if not path.exists():
        pytest.skip("shared real logs not available")
    from lossctl.logs import detect_format, iter_records, reader

    assert detect_format(reader.sample_text(reader.open_source(str(path))))[0] == mod.NAME
    text = path.read_text(encoding="utf-8", errors="replace")
    expected = [float(x) for x in re.findall(pattern, text, flags=re.M)]
    assert len(expected) == count
    got = [r.value for r in iter_records(str(path), window=None) if r.split == split and r.metric == metric]
    assert got == expected


def test_real_avgmeter_eval_passes_and_the_cut_last_line():
    path = REAL_LOGS / "pytorch_avgmeter__01.log"
    if not path.exists():
        pytest.skip("shared real logs not available")
    from lossctl.logs import iter_records

    stream = iter_records(str(path), window=None)
    recs = list(stream)
    ev = [(r.step, r.value) for r in recs if r.split == "eval" and r.metric == "loss"]
    assert len(ev) == 78
    assert ev[0] == (250.0, 6.4444)          # avg of 'Test: [240/242]' of the first pass
    assert stream.ctx.skipped == 1            # 'Epoch: [78][220/250] ... Los' (file cut at 2 MiB)


def test_real_plaintext_runs():
    from lossctl.logs import iter_records

    for name, runs in [("plaintext_epoch__01.log", 3), ("keras_console__01.txt", 22), ("keras_console__02.txt", 5)]:
        path = REAL_LOGS / name
        if not path.exists():
            pytest.skip("shared real logs not available")
        assert len({r.run for r in iter_records(str(path), window=None)}) == runs


# ------------------------------------------------------------------ robustness

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lossctl.logs.base import SPLITS  # noqa: E402

_FRAGMENTS = [
    "Epoch", "Epoch(train)", "Epoch(val)", "Iter", "Iter(val)", "Epoch:", "Test:", "Train:", "iteration",
    "iter", "step", "step:", "Step", "validation loss", "loss", "Loss", "lm loss:", "loss scale:", "val_loss",
    "loss=", "Loss:", "Loss =", "训练次数：", "损失：", "准确率", "acc", "lr", "DLLL", "DLL", "{", "}", "[", "]",
    "(", ")", "|", ":", "=", ",", "-", " - ", "/", "\t", "*", "#", "nan", "-nan", "inf", "NAN", "1e-05", "0", "1",
    "12", "250/250", "[=====]", "━━━", "ETA:", "3s", "(* 1 = 0.5 loss)", "Testing net (#0)", "net output #0:",
    '"step": [0, 1]', '"data": {"loss": 1}', "valid on 'valid' subset", "num_updates", "|", "....", "%",
    "2.5", "3.0E+00", "epoch 001:", "100 / 200", "HellaSwag accuracy: 1/2=0.5", "第 1 轮",
]


@pytest.mark.parametrize("mod", TEXT_MODULES, ids=lambda m: m.NAME)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(st.sampled_from(_FRAGMENTS), max_size=12).map(" ".join), max_size=12))
def test_parsers_never_raise_and_give_well_formed_records(mod, lines):
    text = "\n".join(lines)
    score = mod.detect(text)
    assert 0.0 <= score <= 1.0
    ctx = ParseContext()
    for rec in mod.parse(lines, ctx):
        assert isinstance(rec.value, float)
        assert rec.split in SPLITS
        assert isinstance(rec.metric, str) and rec.metric
        assert rec.step is None or isinstance(rec.step, float)


def test_keras3_last_batch_frame_then_the_final_line_with_validation():
    text = (
        "Epoch 1/1\n"
        "250/250 ━━━━━━━━━━━━━━━━━━━━ 0s 10ms/step - accuracy: 0.8440 - loss: 0.4720\n"
        "250/250 ━━━━━━━━━━━━━━━━━━━━ 3s 12ms/step - accuracy: 0.8450 - loss: 0.4711 - val_accuracy: 0.8300 - val_loss: 0.4980\n"
        "40/40 ━━━━━━━━━━━━━━━━━━━━ 0s 3ms/step - accuracy: 0.8100 - loss: 0.5123\n"
    )
    recs, _ = run(keras_console, text)
    assert points(recs) == [(1.0, 0.4711)]
    assert points(recs, "eval") == [(1.0, 0.498)]
    assert points(recs, "test") == [(1.0, 0.5123)]


def test_plaintext_steps_within_epochs_become_global():
    text = """
Epoch [1/5], Step [100/600], Loss: 2.2093
Epoch [1/5], Step [600/600], Loss: 1.1294
Epoch [2/5], Step [100/600], Loss: 0.9120
Epoch [1/5], Step [100/600], Loss: 2.3000
"""
    recs, _ = run(plaintext, text)
    assert points(recs) == [(100.0, 2.2093), (600.0, 1.1294), (700.0, 0.912), (100.0, 2.3)]
    no_total = "Epoch 1 Iter 10 loss 2.0\nEpoch 1 Iter 20 loss 1.5\nEpoch 2 Iter 10 loss 1.2\nEpoch 2 Iter 20 loss 1.1"
    recs, _ = run(plaintext, no_total)
    assert points(recs) == [(10.0, 2.0), (20.0, 1.5), (40.0, 1.2), (50.0, 1.1)]
    global_steps = "Epoch 1 step 100 loss 2.0\nEpoch 2 step 700 loss 1.5"
    recs, _ = run(plaintext, global_steps)
    assert points(recs) == [(100.0, 2.0), (700.0, 1.5)]


def test_plaintext_bracketed_gan_lines_and_running_average_in_parentheses():
    text = """
[Epoch 1/10] [Batch 100/938] [D loss: 0.693147] [G loss: 0.712000]
[Epoch 2/10] [Batch 100/938] [D loss: 0.5] [G loss: 0.8]
Epoch 5 | Loss: 0.1 (avg 0.15)
"""
    recs, _ = run(plaintext, text)
    assert [(r.step, r.metric, r.value) for r in recs] == [
        (100.0, "d_loss", 0.693147), (100.0, "g_loss", 0.712), (1038.0, "d_loss", 0.5),
        (1038.0, "g_loss", 0.8), (1038.0, "epoch_loss", 0.1)]


def test_timm_and_avgmeter_do_not_claim_each_other():
    timm_text = ("Train: 0 [   0/100 (  0%)]  Loss: 6.942 (6.94)  Time: 3.201s,   40.00/s  LR: 1.000e-05\n"
                 "Test: [   0/20]  Time: 1.102 (1.102)  Loss:  6.8811 (6.8811)  Acc@1:  0.0000 ( 0.0000)\n") * 2
    avg_text = ("Epoch: [0][10/250]\tTime 1.154 (1.408)\tData 0.371 (0.374)\tLoss 12.6626 (12.3890)\n"
                "Test: [10/50]\tTime 0.646 (0.634)\tLoss 7.5117 (5.1709)\n") * 2
    assert timm.detect(timm_text) >= 0.9 and avgmeter.detect(timm_text) == 0.0
    assert avgmeter.detect(avg_text) >= 0.9 and timm.detect(avg_text) == 0.0


def test_megatron_core_2024_lines():
    text = """
 [2024-05-01 12:00:00] iteration      100/  500000 | consumed samples:        51200 | elapsed time per iteration (ms): 1234.5 | throughput per GPU (TFLOP/s/GPU): 180.2 | learning rate: 1.500000E-04 | global batch size:   512 | lm loss: 7.123456E+00 | loss scale: 1.0 | grad norm: 1.234 | number of skipped iterations:   0 | number of nan iterations:   0 |
 validation loss at iteration 100 on validation set | lm loss value: 6.900000E+00 | lm loss PPL: 9.921408E+02 |
 validation loss at iteration 100 on test set | lm loss value: 6.950000E+00 | lm loss PPL: 1.043e+03 |
"""
    recs, _ = run(megatron, text)
    assert points(recs) == [(100.0, 7.123456)]
    assert points(recs, "eval") == [(100.0, 6.9)]
    assert points(recs, "test") == [(100.0, 6.95)]
    assert {r.metric for r in recs if r.split == "train"} == {
        "loss", "learning_rate", "loss_scale", "grad_norm", "skipped_iterations", "nan_iterations"}
