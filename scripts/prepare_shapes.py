#!/usr/bin/env python
"Build the shapes benchmark (train_xe / train / val / test shards, manifest, registry): see `nbs/01_shapes.ipynb`."
# Every option is a parameter of `dico_nb.shapes.prepare_shapes`, documented there; `--help` lists them.
#   python scripts/prepare_shapes.py                  # 20k / 1k / 1k images at 64 px into data/shapes, 2 workers
#   python scripts/prepare_shapes.py --n_train 2000 --out_dir data/shapes_small --name shapes_small
import time
from fastcore.script import call_parse
from dico_nb.shapes import prepare_shapes, stats_table

t0 = time.time()
manifest = call_parse(prepare_shapes)  # parses sys.argv and runs the build
if isinstance(manifest, dict):
    print(f"built {manifest['name']} in {time.time() - t0:.1f}s: "
          + ', '.join(f"{manifest['name']}_{k} ({v['count']} samples)" for k, v in manifest['splits'].items()))
    print(stats_table(manifest['stats']['train']))
