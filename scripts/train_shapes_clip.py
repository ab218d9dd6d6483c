#!/usr/bin/env python
"Train the shapes benchmark's two CLIPs (the evaluator playing PAC-S, and the captioner's trunk) and measure the evaluator's correlation with the checker."
from fastcore.script import call_parse
from dico_nb.shapes_clip import shapes_clip_study

@call_parse
def main(out_dir:str='data/models',  # where `shapes_evaluator.pth` and `shapes_trunk.pth` (PAC-S format) go
         results:str='nbs/results',  # where the correlation table, json and scatter plot go
         steps:int=400,              # training steps of each CLIP
         batch_size:int=256,         # images per step
         n_val:int=500,              # validation images in the candidate set (6 candidates each)
         registry:str=None,          # registry holding `shapes_train` and `shapes_val` (default: data/registry.json)
         seed:int=0):                # initialisation, batches and candidates
    rows, info = shapes_clip_study(out_dir, results, steps, batch_size, n_val, registry, seed)
    print(info)
    for r in rows: print(f"{r['metric']:45s} tau-b x100 = {r['tau']:6.1f}   {r['mean_by_kind']}")
