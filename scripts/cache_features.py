#!/usr/bin/env python
"Precompute a captioner's frozen-trunk token features (fp16) for a shard set."
from fastcore.script import call_parse
from dico_nb.data import CaptionLoader, clip_transform
from dico_nb.convert import load_captioner
from dico_nb.features import cache_features

@call_parse
def main(checkpoint:str,           # captioner directory (`save_pretrained` or the reference's HF checkpoint)
         data:str,                 # registered dataset name (e.g. `coco_train`) or manifest path + '#' + split
         out:str,                  # output directory for `feats.bin` + `index.json`
         clip_name:str='ViT-L-14', # open_clip model whose preprocessing the trunk expects
         pretrained:str='openai',  # pretrained tag whose mean/std to use ('' for open_clip defaults)
         image_size:int=None,      # input size override (custom / tiny trunks)
         batch_size:int=64,        # images per trunk batch
         workers:int=0,            # data-loading processes
         device:str='cpu'):        # where the trunk runs
    "Run the trunk once per image of `data` and store the features in `out`."
    model = load_captioner(checkpoint).to(device)
    tf = clip_transform(clip_name, pretrained or None, image_size)
    loader = CaptionLoader(data, batch_size=batch_size, transform=tf, workers=workers)
    n = cache_features(model.trunk, loader, out, source=dict(checkpoint=checkpoint, data=data, trunk=model.cfg.trunk))
    print(f'{n} images -> {out}')
