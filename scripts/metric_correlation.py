#!/usr/bin/env python
"Metrics against human judgments: Kendall tau on Flickr8k-Expert, Flickr8k-CF and Composite, pairwise accuracy on Pascal-50S and FOIL, for BLEU-4, CIDEr-D, CLIP-S, RefCLIP-S, PAC-S, RefPAC-S (see `nbs/06c_correlation.ipynb`)."
#   python scripts/metric_correlation.py flickr8k_expert /data/flickr8k --clip weights/ViT-B-32-openai.bin \
#          --clip_arch ViT-B-32-quickgelu --pacs weights/clip_ViT-B-32.pth --device cuda
import json
from pathlib import Path
from fastcore.script import call_parse
from dico_nb.correlation import DATASETS, PUBLISHED, correlation_table, run_correlation
from dico_nb.evaluate import load_scorers

@call_parse
def main(dataset:str,               # one of flickr8k_expert, flickr8k_cf, composite, pascal50s, foil
         root:str,                  # the dataset's folder, laid out as its loader says (nbs/06c_correlation.ipynb)
         clip:str=None,             # CLIP weights for CLIP-S / RefCLIP-S (OpenAI ViT-B/32 for the published table)
         pacs:str=None,             # PAC-S weights for PAC-S / RefPAC-S (clip_ViT-B-32.pth)
         clip_arch:str=None,        # open_clip name of the CLIP (default: from the file, see `load_clip`)
         pacs_arch:str=None,        # open_clip name of the PAC-S model
         no_ptb:bool=False,         # simple tokenization for BLEU-4 and CIDEr-D instead of the PTB tokenizer (no Java)
         n_refs:int=None,           # pascal50s: references drawn per pair (default 5); foil: 4 (default) or 1
         seed:int=0,                # pascal50s: the reference draw and the breaking of tied votes
         batch_size:int=64,         # candidates per CLIP batch
         device:str='cpu',          # torch device of the scorers
         out:str='runs/correlation'): # folder for `{dataset}.json` (outside the source tree)
    if dataset not in DATASETS: raise SystemExit(f"dataset={dataset!r}: expected one of {', '.join(DATASETS)}")
    scorers = load_scorers(clip, pacs, clip_arch, pacs_arch)
    for s in scorers.values(): s.model.to(device)
    kw = ({'n_refs': n_refs} if n_refs is not None else {}) | ({'seed': seed} if dataset == 'pascal50s' else {})
    res = run_correlation(dataset, root, {{'clip': 'CLIP-S', 'pacs': 'PAC-S'}[k]: s for k, s in scorers.items()},
                          ptb=not no_ptb, batch_size=batch_size, **kw)
    print(correlation_table(res, PUBLISHED.get(dataset)))
    path = Path(out)/f'{dataset}.json'; path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(res, scores={k: v.tolist() for k, v in res['scores'].items()}, root=str(root),
                                    clip=clip, pacs=pacs, ptb=not no_ptb), indent=1))
    print(f"wrote {path}")
