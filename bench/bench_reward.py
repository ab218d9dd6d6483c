#!/usr/bin/env python
"""Reward scoring throughput: captions/s for a DiCO step's batch (8 images x 5 candidates), paper-size ViT-B-32
CLIP with random weights, CPU. Ours (`Scorer`: text trimmed to the longest candidate, image features cached by key)
vs the plain recipe (open_clip `encode_text` at 77 tokens, images encoded every call)."""
import statistics, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from common import interleaved
import torch, torch.nn.functional as F, open_clip
from fastcore.script import call_parse
from dico_nb.reward import Scorer, make_clip, text_tokens

@call_parse
def main(arch:str='ViT-B-32-quickgelu', # open_clip architecture (random weights)
         images:int=8, k:int=5,         # images per step, candidates per image
         repeats:int=5,                 # timed calls
         out:str='bench/reward.md'):    # where the result table goes
    torch.manual_seed(0)
    model = make_clip(arch); sc = Scorer(model, w=2.0)
    words = 'a man riding a red horse on the beach next to a small dog'.split()
    cands = [' '.join(words[:8 + (i % 6)]) for i in range(images * k)]
    refs = [[' '.join(words[j:j + 9]) for j in range(5)] for _ in range(images)]
    x = torch.randn(images, 3, 224, 224); keys = list(range(images))
    @torch.no_grad()
    def plain():
        e_i = F.normalize(model.encode_image(x), dim=-1)
        e_c = F.normalize(model.encode_text(open_clip.tokenize([f"A photo depicts {c}" for c in cands])), dim=-1)
        e_r = F.normalize(model.encode_text(open_clip.tokenize([f"A photo depicts {r}" for rs in refs for r in rs])), dim=-1)
        return e_i, e_c, e_r
    ts = interleaved(dict(ours=lambda: sc(x, cands, refs, keys), base=plain), repeats)
    ours, base = ts['ours'], ts['base']
    m_o, m_b = statistics.median(ours), statistics.median(base)
    n = images * k
    table = ("| machine | batch | ours (trimmed text, cached images) | open_clip at 77 tokens, images every call | ratio |\n|---|---|---|---|---|\n"
             f"| CPU, {torch.get_num_threads()} threads, {arch} random weights | {images} images x {k} candidates + 5 refs each "
             f"(text length {text_tokens(cands).shape[1]}) | {n / m_o:.0f} captions/s ({1000 * m_o:.0f} ms, min {1000 * min(ours):.0f}, max {1000 * max(ours):.0f}) "
             f"| {n / m_b:.0f} captions/s ({1000 * m_b:.0f} ms) | {m_b / m_o:.1f}x |\n")
    print(table); open(out, 'w').write(table)
