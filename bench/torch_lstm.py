"""PyTorch peer for `npm run bench:train`: the same model as tfjs trains (embedding -> dropout -> LSTM ->
dropout -> dense, logistic gates), on the same batches of the same word ids, with the same batch size,
learning rate and thread count, for one epoch. Settings as JSON on argv[1]; the batches come from a JSON
file written by bench/train.ts ({"batches": [{"ids": [[...]], "labels": [...]}]}, ids unpadded).

Modes:
  packed    exact: pack_padded_sequence over each row's real length, so padding never enters the LSTM
            and the final state is each row's own last step (what tfjs's masking computes). PyTorch's
            exact best.
  unmasked  inexact: the same batches pre-padded to their longest row and run through the LSTM as if the
            padding were words (no masking): faster per step, but a different computation.
Prints JSON."""
import json
import platform
import sys
import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch_blas import loaded_blas  # the script's folder is on sys.path

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg["threads"])
with open(cfg["batchesFile"]) as f:
    raw_batches = json.load(f)["batches"]


def tensors(batch, packed):
    lengths = torch.tensor([max(1, len(r)) for r in batch["ids"]], dtype=torch.int64)
    width = int(lengths.max())
    ids = torch.zeros(len(batch["ids"]), width, dtype=torch.int64)
    for i, row in enumerate(batch["ids"]):
        if row:
            if packed:
                ids[i, : len(row)] = torch.tensor(row)  # post-padded: packing reads the real prefix
            else:
                ids[i, width - len(row) :] = torch.tensor(row)  # pre-padded, as tfjs pads
    return ids, lengths, torch.tensor(batch["labels"], dtype=torch.int64)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(cfg["numWords"], cfg["embeddingDim"])
        self.embedding_dropout = nn.Dropout(cfg["dropout"])
        self.lstm = nn.LSTM(cfg["embeddingDim"], cfg["lstmUnits"], batch_first=True)
        self.lstm_dropout = nn.Dropout(cfg["dropout"])
        self.out = nn.Linear(cfg["lstmUnits"], cfg["numClasses"])

    def forward(self, ids, lengths, packed):
        x = self.embedding_dropout(self.embedding(ids))
        if packed:
            x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(x)
        return self.out(self.lstm_dropout(h[-1]))


def epoch(packed):
    torch.manual_seed(cfg["seed"])
    model = Model()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["learningRate"])
    loss_fn = nn.CrossEntropyLoss()
    batches = [tensors(b, packed) for b in raw_batches]
    rows, losses = 0, []
    started = time.perf_counter()
    for ids, lengths, labels in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(ids, lengths, packed), labels)
        loss.backward()
        optimizer.step()
        rows += len(labels)
        losses.append(loss.item())
    seconds = time.perf_counter() - started
    return {"samplesPerSec": rows / seconds, "epochSeconds": seconds, "meanTrainLoss": sum(losses) / len(losses)}


result = {
    "blas": loaded_blas(),
    "framework": f"pytorch {torch.__version__}",
    "python": platform.python_version(),
    "threads": torch.get_num_threads(),
    "batches": len(raw_batches),
}
for mode in cfg["modes"]:
    result[mode] = epoch(mode == "packed")
json.dump(result, sys.stdout)
