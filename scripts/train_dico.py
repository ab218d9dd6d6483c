#!/usr/bin/env python
"DiCO fine-tuning (stage 2), paper defaults: Adam lr 1e-6 constant, beta 0.2, tau 300, 5 beams, max length 30, best by RefPAC-S. Every option: --help. Several GPUs or nodes: torchrun --nproc_per_node N scripts/train_dico.py ..."
from dico_nb.train import train, config_cli, TrainConfig, dico_config, scst_config

if __name__ == '__main__': train(config_cli(dico_config()))
