#!/usr/bin/env python
"Precompute a captioner's frozen-trunk token features (fp16) for a shard set."
from fastcore.script import call_parse
from dico_nb.data import CaptionLoader
from dico_nb.model import model_transform
from dico_nb.convert import load_captioner
from dico_nb.features import cache_features

@call_parse
def main(checkpoint:str,           # captioner directory (`save_pretrained` or the reference's HF checkpoint), or a Hub id
         data:str,                 # registered dataset name (e.g. `coco_train`) or manifest path + '#' + split
         out:str,                  # output directory for `feats.bin` + `index.json`
         batch_size:int=64,        # images per trunk batch
         workers:int=0,            # data-loading processes
         device:str='cpu'):        # where the trunk runs
    "Run the checkpoint's trunk once per image of `data`, preprocessed as that trunk expects, and store the features in `out`."
    model = load_captioner(checkpoint).to(device)
    loader = CaptionLoader(data, batch_size=batch_size, transform=model_transform(model), workers=workers)
    n = cache_features(model.trunk, loader, out, source=dict(checkpoint=checkpoint, data=data, trunk=model.cfg.trunk))
    print(f'{n} images -> {out}')
