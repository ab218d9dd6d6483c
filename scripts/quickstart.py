#!/usr/bin/env python
"First run on a new machine: build a small Karpathy-style dataset, prepare its shards, print a batch."
from fastcore.script import call_parse
from dico_nb.tokens import Tokenizer
from dico_nb.testing import quickstart

@call_parse
def main(root:str='data/quickstart', # where the fake dataset, shards and registry go
         n_train:int=16,             # training images (5 captions each)
         batch_size:int=8):          # samples in the printed batch
    batch, manifest, tally = quickstart(root, n_train, batch_size)
    print({k: s['count'] for k, s in manifest['splits'].items()})
    print('images', tuple(batch['images'].shape), 'tokens', tuple(batch['tokens'].shape))
    tok = Tokenizer()
    for key, ids in zip(batch['keys'], batch['tokens']): print(f"{key:40s} {tok.decode(ids)}")
    print('defects:\n' + tally.report())
