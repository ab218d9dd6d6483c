#!/usr/bin/env python
"""Reading throughput of the shard pipeline: JPEG decode + CLIP transform + collate, samples/s.

Builds a COCO-like Karpathy dataset (640x480 photos-like noise images, so JPEG decoding costs what it costs on real
photos), prepares its shards with `prepare_karpathy` (timed too), then reads the `train_xe` split with
`CaptionLoader` at 224 px (ViT-L-14 preprocessing), repeated, and reports median and spread.
"""
import json, statistics, tempfile, time, platform
from pathlib import Path
import numpy as np, torch
from PIL import Image, ImageFilter
from fastcore.script import call_parse
from dico_nb.shards import prepare_karpathy
from dico_nb.data import CaptionLoader, clip_transform

def photo_like(rng, size=(640, 480)):
    "Smooth colour noise with edges: compresses and decodes like a photo, unlike flat test images."
    small = rng.integers(0, 256, (size[1] // 8, size[0] // 8, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize(size, Image.BICUBIC).filter(ImageFilter.DETAIL)
    return Image.fromarray(np.clip(np.asarray(img, dtype=np.int16) + rng.integers(-12, 12, (size[1], size[0], 3)), 0, 255).astype(np.uint8))

def make_karpathy(root, n):
    rng = np.random.default_rng(0); (root/'train2014').mkdir(parents=True)
    images = []
    for i in range(n):
        fn = f"COCO_train2014_{i:012d}.jpg"; photo_like(rng).save(root/'train2014'/fn, quality=90)
        images.append(dict(split='train', filepath='train2014', filename=fn, imgid=i,
                           sentences=[dict(raw=f"a photo number {i} of things, caption {j}", sentid=5*i+j) for j in range(5)]))
    (root/'dataset_coco.json').write_text(json.dumps(dict(images=images)))
    return root/'dataset_coco.json'

@call_parse
def main(n_images:int=200,  # images (x5 captions = XE samples read per pass)
         workers:int=2,     # DataLoader workers (and shard-writing processes)
         batch_size:int=32, # samples per batch
         repeats:int=3,     # timed passes
         out:str='bench/data_throughput.md'): # where the result table goes
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); kjson = make_karpathy(d/'coco', n_images); reg = d/'registry.json'
        t0 = time.perf_counter()
        m, _ = prepare_karpathy(kjson, d/'coco', d/'shards', shard_size=250, workers=workers, registry=reg)
        prep = time.perf_counter() - t0
        n = m['splits']['train_xe']['count']
        tf = clip_transform('ViT-L-14')
        rates = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            got = sum(len(b['keys']) for b in CaptionLoader('coco_train_xe', batch_size, tf, workers=workers, registry=reg))
            rates.append(got / (time.perf_counter() - t0)); assert got == n
    row = (f"| {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch thread, {workers} workers "
           f"| {n} XE samples, 640x480 -> 384 short side -> 224 | {statistics.median(rates):.0f} samples/s "
           f"(min {min(rates):.0f}, max {max(rates):.0f}, {repeats} passes) | prepare: {prep:.1f} s ({n / prep:.0f} XE samples/s written) |")
    table = "| machine | data | read (decode + ViT-L-14 transform + collate) | shard preparation |\n|---|---|---|---|\n" + row + "\n"
    print(table); Path(out).write_text(table)
