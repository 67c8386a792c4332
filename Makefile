# Developer targets. Tests: `make test`. Fuzzing and big inputs are benchmarks, not CI.
PY ?= .venv/bin/python
FUZZ_SECONDS ?= 300
PREDS_FUZZ_SECONDS ?= 120

.PHONY: test fuzz fuzz-logs fuzz-preds big-inputs

test:
	$(PY) -m pytest -q

# coverage-guided fuzzing with atheris (pip install atheris); findings in bench/out/fuzz/findings/
fuzz: fuzz-logs fuzz-preds

fuzz-logs:
	$(PY) bench/fuzz_logs.py -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1

fuzz-preds:
	$(PY) bench/fuzz_logs.py --preds -max_total_time=$(PREDS_FUZZ_SECONDS) -print_final_stats=1

# a ~2 GB log and a ~2 GB predictions CSV in /tmp, wall time and peak RSS (deleted afterwards)
big-inputs:
	$(PY) bench/big_inputs.py --dir /tmp/lossctl-big
