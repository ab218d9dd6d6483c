#!/usr/bin/env python
"Karpathy json + image folder -> webdataset shards (train_xe, train, val, test), manifest and registry entries."
from fastcore.script import call_parse
from dico_nb.shards import prepare_karpathy

@call_parse
def main(karpathy_json:str,           # `dataset_coco.json` or `dataset_flickr30k.json` (Karpathy's splits)
         image_root:str,              # folder the json's `filepath`/`filename` are relative to
         out_dir:str='data/coco',     # where shards and `manifest.json` go
         name:str='coco',             # dataset name: registered as `{name}_train_xe`, `{name}_train`, `{name}_val`, `{name}_test`
         size:int=384,                # short side of stored images (the reference used 384)
         shard_size:int=5000,         # samples per shard
         workers:int=4,               # shard-writing processes
         handler:str='raise',         # 'raise' at the first defect, or 'skip' defects and count them
         registry:str=None,           # registry file (default: $DICO_REGISTRY or data/registry.json)
         seed:int=0,                  # order of the XE samples
         rebuild:bool=False):         # delete the shards and manifest of an earlier preparation in `out_dir` first
    manifest, tally = prepare_karpathy(karpathy_json, image_root, out_dir, name, size, shard_size, workers,
                                       handler, registry, seed, rebuild)
    for split, s in manifest['splits'].items():
        print(f"{name}_{split:9s} {s['layout']:4s} {s['count']:8d} samples in {len(s['shards'])} shards ({s['written']} written now)")
    print(tally.report())
