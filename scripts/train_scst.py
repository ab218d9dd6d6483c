#!/usr/bin/env python
"SCST baseline (CIDEr-D or CLIP/PAC-S reward) on the same candidates as DiCO. Every option: --help. Several GPUs or nodes: torchrun --nproc_per_node N scripts/train_scst.py ..."
from dico_nb.train import train, config_cli, scst_config

if __name__ == '__main__': train(config_cli(scst_config()))
