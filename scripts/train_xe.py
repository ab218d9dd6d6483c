#!/usr/bin/env python
"Cross-entropy pre-training (stage 1), paper defaults: lr 2.5e-4, 5% warm-up, batch 64 x 8, 10k steps. Every option: --help. Several GPUs or nodes: torchrun --nproc_per_node N scripts/train_xe.py ..."
from dico_nb.train import train, config_cli, TrainConfig, dico_config, scst_config

if __name__ == '__main__': train(config_cli(TrainConfig()))
