#!/usr/bin/env python
"Evaluate a captioner checkpoint on a registered split: beam-search decoding, the metric table, predictions (COCO format), metrics json and markdown table (see `nbs/06_evaluate.ipynb`)."
#   python scripts/evaluate.py --checkpoint runs/xe --dataset shapes_test \
#          --reward data/models/shapes_evaluator.pth --clip data/models/shapes_trunk.pth --name xe
import time
from fastcore.script import call_parse
from dico_nb.features import FeatureCache
from dico_nb.convert import load_captioner
from dico_nb.evaluate import evaluate, load_scorers, save_evaluation, table_header, table_row

@call_parse
def main(checkpoint:str=None,        # captioner directory (`Captioner.save_pretrained`, or the reference's HF checkpoint)
         dataset:str='shapes_test',  # registry name of a `dict`-layout split
         reward:str=None,            # PAC-S weights for PAC-S / RefPAC-S (e.g. data/models/shapes_evaluator.pth)
         clip:str=None,              # CLIP weights for CLIP-S / RefCLIP-S (e.g. data/models/shapes_trunk.pth)
         reward_arch:str=None,       # open_clip name of the PAC-S model (default: from the file)
         clip_arch:str=None,         # open_clip name of the CLIP model (default: from the file)
         k:int=5,                    # beams
         max_len:int=30,             # longest caption, BOS and EOS included (the reference: 30)
         batch_size:int=32,          # images per decoding batch
         limit:int=None,             # evaluate the first `limit` images only
         length_penalty:float=1.,    # beam-search alpha (1: the reference's; 0: rank by log-prob)
         fast:bool=False,            # no Java: CIDEr-fast instead of BLEU / METEOR / ROUGE-L / CIDEr / SPICE
         no_spice:bool=False,        # skip SPICE
         no_meteor:bool=False,       # skip METEOR
         train:str='auto',           # training split for % novel ('auto': `{name}_train` when registered; 'none': skip)
         out:str='runs/eval',        # folder for the outputs (outside the source tree)
         name:str=None,              # file stem and table label (default: checkpoint folder name + dataset)
         registry:str=None,          # registry file (default: $DICO_REGISTRY or data/registry.json)
         features:str=None,          # a feature cache of the split (`scripts/cache_features.py`): decode without the trunk
         device:str='cpu'):          # torch device for the captioner and the scorers
    if checkpoint is None: raise SystemExit('pass --checkpoint DIR (a captioner directory)')
    t0 = time.time()
    model = load_captioner(checkpoint).to(device)
    scorers = load_scorers(clip, reward, clip_arch, reward_arch)
    for s in scorers.values(): s.model.to(device)
    ev = evaluate(model, dataset, k, max_len, batch_size, limit, java=not fast, spice=not no_spice, meteor=not no_meteor,
                  clip=scorers.get('clip'), pacs=scorers.get('pacs'), train=None if train == 'none' else train, registry=registry,
                  features=FeatureCache(features) if features else None, length_penalty=length_penalty)
    name = name or f"{checkpoint.rstrip('/').split('/')[-1]}_{dataset}"
    paths = save_evaluation(ev, out, name, checkpoint=checkpoint, reward=reward, clip=clip, limit=limit, fast=fast)
    print(table_header()); print(table_row(ev['metrics'], name))
    for n in ev['notes']: print('note:', n)
    print(f"{ev['n_images']} images, seconds by stage {ev['seconds']} "
          f"(with loading {time.time() - t0:.1f}s); wrote {', '.join(str(p) for p in paths.values())}")
