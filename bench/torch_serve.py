"""PyTorch peer for `npm run bench:serve`: the bundle's own model rebuilt in PyTorch from its
weights.bin/model.json with numpy, scoring the same encoded reviews, each architecture with PyTorch's exact
best for variable-length rows:
  lstm  embedding -> [bidirectional] LSTM -> dense softmax: one packed batch (pack_padded_sequence over the
        real lengths), which equals the masked computation.
  bag   fastText: word ids + hashed word-pair ids -> mean (or sqrtn, or attention) of their embeddings ->
        dense softmax: one nn.EmbeddingBag call over the flat ids with per-row offsets (no padding at all),
        the pair hashes computed with tensor ops from the same ids inside the timed region. mean is
        mode="mean"; sqrtn (sum / sqrt(ids in the row), the bundle's MaskedPooling mode) is mode="sum"
        divided by the root of each row's id count, which PyTorch's bags do not offer as a mode. attention
        (softmax over the row's ids of query . embedding) has no bag form at all: the flat ids are gathered
        into a padded [rows, ids] batch and pooled with the layer's own masked softmax.

The peer also tokenises: the bundle's normaliser (src/text/normalize.ts) restated in Python and its
tokenizer.json, checked against the service's ids for every text it is given, so "from review text to
probabilities" is measured on both sides, as is "from ids to probabilities" (the model alone).

Protocol (JSON lines): argv[1] = the bundle version folder. Then on stdin:
  {"op": "load", "name": k, "texts": [...], "sequences": [[ids...], ...]}
        -> {"ok": true, "idMismatches": texts whose ids differ from the service's}
  {"op": "time", "name": k, "threads": n, "from": "ids" | "text"}
        -> {"ms": one request, from ids (the model alone) or from its texts (tokenising + the model)}
  {"op": "probabilities", "name": k}                       -> {"probabilities": [[...], ...]}
Timing covers tokenising (from text only), tensor construction, the forward pass and softmax; not the JSON
round trip."""
import itertools
import json
import os
import platform
import re
import sys
import time
import unicodedata

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence
from torch_blas import loaded_blas  # the script's folder is on sys.path

# src/model/architectures/layers.ts: BIGRAM_MULTIPLIER (float32-exact word-pair hash).
BIGRAM_MULTIPLIER = 313

bundle = sys.argv[1]
with open(os.path.join(bundle, "model.json")) as f:
    model_json = json.load(f)
raw = np.fromfile(os.path.join(bundle, "weights.bin"), dtype="<f4")
weights, offset = {}, 0
for group in model_json["weightsManifest"]:
    for spec in group["weights"]:
        if spec["dtype"] != "float32":
            raise SystemExit(f"unsupported dtype {spec['dtype']}")
        size = int(np.prod(spec["shape"])) if spec["shape"] else 1
        weights[spec["name"]] = raw[offset : offset + size].reshape(spec["shape"])
        offset += size
layers = {layer["class_name"]: layer["config"] for layer in model_json["modelTopology"]["config"]["layers"]}
embedding = torch.from_numpy(weights["embedding/embeddings"].copy())


def linear_output():
    out = nn.Linear(*weights["output/kernel"].shape)
    out.weight.copy_(torch.from_numpy(weights["output/kernel"].T.copy()))
    out.bias.copy_(torch.from_numpy(weights["output/bias"]))
    return out


class LstmPeer(nn.Module):
    def __init__(self):
        super().__init__()
        topology = json.dumps(model_json["modelTopology"])
        for needed in ('"recurrent_activation": "sigmoid"', '"activation": "tanh"'):
            if needed not in topology:
                raise SystemExit(f"the peer reproduces sigmoid/tanh LSTMs only (missing {needed})")
        self.bidirectional = "bilstm/forward_lstm/kernel" in weights
        prefixes = ["bilstm/forward_lstm", "bilstm/backward_lstm"] if self.bidirectional else ["lstm"]
        if not self.bidirectional and "lstm/kernel" not in weights:
            raise SystemExit("the peer reproduces the `lstm` architecture only (embedding -> LSTM -> dense)")
        self.units = weights[f"{prefixes[0]}/recurrent_kernel"].shape[0]
        self.embedding = nn.Embedding.from_pretrained(embedding)
        self.lstm = nn.LSTM(embedding.shape[1], self.units, batch_first=True, bidirectional=self.bidirectional)
        # Keras gate order (i, f, c, o) is PyTorch's (i, f, g, o); Keras has one bias per gate.
        for suffix, prefix in zip(["", "_reverse"], prefixes):
            for name, key in (("weight_ih", "kernel"), ("weight_hh", "recurrent_kernel")):
                getattr(self.lstm, f"{name}_l0{suffix}").copy_(torch.from_numpy(weights[f"{prefix}/{key}"].T.copy()))
            getattr(self.lstm, f"bias_ih_l0{suffix}").copy_(torch.from_numpy(weights[f"{prefix}/bias"]))
            getattr(self.lstm, f"bias_hh_l0{suffix}").zero_()
        self.out = linear_output()
        self.info = {"arch": "lstm", "bidirectional": self.bidirectional, "units": self.units}

    def forward(self, sequences):
        # Ids post-padded; pack_padded_sequence reads only each row's real length.
        lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
        ids = torch.zeros(len(sequences), max(1, int(lengths.max())), dtype=torch.int64)
        for row, s in enumerate(sequences):
            if s:
                ids[row, : len(s)] = torch.tensor(s, dtype=torch.int64)
        # Rows with no tokens keep the zero state (what tfjs and ONNX give): they never enter the LSTM.
        features = torch.zeros(ids.shape[0], self.units * (2 if self.bidirectional else 1))
        real = lengths > 0
        if bool(real.any()):
            packed = pack_padded_sequence(
                self.embedding(ids[real]), lengths[real], batch_first=True, enforce_sorted=False
            )
            _, (h, _) = self.lstm(packed)
            features[real] = torch.cat([h[-2], h[-1]], dim=1) if self.bidirectional else h[-1]
        return torch.softmax(self.out(features), dim=1)


class BagPeer(nn.Module):
    def __init__(self):
        super().__init__()
        ngrams = layers["NgramIds"]
        self.pooling = layers.get("MaskedPooling", {}).get("mode")
        if self.pooling not in ("mean", "sqrtn", "attention"):
            raise SystemExit(
                f"the peer reproduces `bag` with mean, sqrtn or attention pooling, not {self.pooling!r}"
            )
        self.num_words, self.buckets = ngrams["num_words"], ngrams["buckets"]
        if self.pooling == "attention":
            self.embedding = nn.Embedding.from_pretrained(embedding)
            self.query = torch.from_numpy(weights["pooling/query"].copy())
        else:
            self.bag = nn.EmbeddingBag.from_pretrained(embedding, mode="mean" if self.pooling == "mean" else "sum")
        self.out = linear_output()
        self.info = {"arch": "bag", "numWords": self.num_words, "buckets": self.buckets, "pooling": self.pooling}

    def forward(self, sequences):
        lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
        words = torch.tensor(list(itertools.chain.from_iterable(sequences)), dtype=torch.int64)
        row = torch.repeat_interleave(torch.arange(len(sequences)), lengths)
        same_row = row[:-1] == row[1:]
        pairs = (words[:-1] * BIGRAM_MULTIPLIER + words[1:]) % self.buckets + self.num_words
        ids = torch.cat([words, pairs[same_row]])
        order = torch.argsort(torch.cat([row, row[:-1][same_row]]), stable=True)
        counts = lengths + (lengths - 1).clamp(min=0)
        offsets = torch.cat([torch.zeros(1, dtype=torch.int64), counts.cumsum(0)[:-1]])
        if self.pooling == "attention":
            return torch.softmax(self.out(self.attend(ids[order], offsets, counts)), dim=1)
        # An empty row is an empty bag: EmbeddingBag gives zeros, as the masked mean does.
        pooled = self.bag(ids[order], offsets)
        if self.pooling == "sqrtn":
            # Every word and every in-row pair is a real (non-zero) id, so counts is the layer's mask sum;
            # clamp(min=1) as the layer's max(count, 1): an empty row's zero sum stays 0.
            pooled = pooled / counts.clamp(min=1).to(pooled.dtype).sqrt().unsqueeze(1)
        return torch.softmax(self.out(pooled), dim=1)

    def attend(self, flat, offsets, counts):
        # Row r's ids are flat[offsets[r] : offsets[r] + counts[r]]: gather them into [rows, width], the
        # slots past a row's count pointing at an appended 0 (also what an all-empty batch reads).
        width = max(1, int(counts.max())) if len(counts) else 1
        slot = torch.arange(width)
        real = slot.unsqueeze(0) < counts.unsqueeze(1)
        flat = torch.cat([flat, torch.zeros(1, dtype=flat.dtype)])
        index = torch.where(real, offsets.unsqueeze(1) + slot, torch.tensor(len(flat) - 1))
        steps = self.embedding(flat[index])
        # MaskedPooling's attention step for step: masked scores -> -1e9, minus the row's max, exp, times
        # the mask (a padding slot weighs exactly 0), over max(sum, 1) (an empty row pools to 0).
        mask = real.to(steps.dtype).unsqueeze(2)
        scores = (steps * self.query).sum(-1, keepdim=True)
        masked = scores * mask + (1 - mask) * -1e9
        weights = torch.exp(masked - masked.max(dim=1, keepdim=True).values) * mask
        return (steps * (weights / weights.sum(dim=1, keepdim=True).clamp(min=1))).sum(dim=1)


PEERS = {"NgramIds": BagPeer, "LSTM": LstmPeer, "Bidirectional": LstmPeer}
kind = next((k for k in PEERS if k in layers), None)
if kind is None:
    raise SystemExit(f"no PyTorch peer for layers {sorted(layers)} (peers: bag, lstm)")
with torch.no_grad():
    model = PEERS[kind]().eval()
# ---- Tokenising: src/text/normalize.ts and src/text/tokenizer.ts in Python --------------------------------
with open(os.path.join(bundle, "tokenizer.json")) as f:
    tokenizer = json.load(f)
ids_of = {w: i + (1 if tokenizer["oovIndex"] is None else 2) for i, w in enumerate(tokenizer["words"])}
with open(os.path.join(bundle, "manifest.json")) as f:
    max_len = json.load(f)["preprocessing"]["maxLen"]
KERAS_DELETE = re.compile(r"[^a-zA-z0-9\s]")
KERAS_FILTERS = re.compile(r'[!"#$%&()*+,\-./:;<=>?@\[\\\]^_`{|}~\t\n]')
APOSTROPHES = re.compile("['\u2019\u02bc]")
NON_WORD = re.compile(r"[\W_]+")  # str patterns: \w is a letter or digit of any script, or "_"


def keras_original(text):
    return [w for w in KERAS_FILTERS.sub(" ", KERAS_DELETE.sub("", text.lower())).split(" ") if w]


def unicode_words(text):
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.category(c).startswith("M"))
    return [w for w in NON_WORD.split(APOSTROPHES.sub("", folded.lower())) if w]


NORMALIZERS = {"keras-original-v1": keras_original, "unicode-words-v1": unicode_words}
normalize = NORMALIZERS[tokenizer["normalizer"]]
oov = tokenizer["oovIndex"]


def encode(text):
    ids = [i for i in (ids_of.get(w, oov) for w in normalize(text)) if i is not None]
    return ids[-max_len:]


requests = {}
texts = {}


def run(sequences):
    with torch.inference_mode():
        return model(sequences)


print(
    json.dumps(
        {
            "ready": True,
            "blas": loaded_blas(),
            "framework": f"pytorch {torch.__version__}",
            "python": platform.python_version(),
            "numpy": np.__version__,
            **model.info,
        }
    ),
    flush=True,
)
for line in sys.stdin:
    message = json.loads(line)
    op = message["op"]
    if op == "load":
        requests[message["name"]] = message["sequences"]
        texts[message["name"]] = message.get("texts")
        mismatches = sum(encode(t) != s for t, s in zip(message.get("texts") or [], message["sequences"]))
        reply = {"ok": True, "idMismatches": mismatches}
    elif op == "time":
        torch.set_num_threads(message["threads"])
        from_text = message.get("from") == "text"
        started = time.perf_counter()
        if from_text:
            run([encode(t) for t in texts[message["name"]]])
        else:
            run(requests[message["name"]])
        reply = {"ms": (time.perf_counter() - started) * 1000}
    elif op == "probabilities":
        reply = {"probabilities": run(requests[message["name"]]).tolist()}
    else:
        reply = {"error": f"unknown op {op}"}
    print(json.dumps(reply), flush=True)
